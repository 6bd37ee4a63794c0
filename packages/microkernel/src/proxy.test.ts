import { afterEach, describe, expect, it } from 'vitest';
import { FosError, isFosError } from '@fos/base';
import type { ForwardedMessage, ProxyAttachment } from './internal/kernel/proxy.js';
import { namedMailbox, processOn } from './internal/testing.js';
import { LocalFabric } from './local-fabric.js';
import { Machine } from './machine.js';
import type { ProcessContext } from './process.js';
import type { Capability } from './capability.js';

// Two machines in one thread, each with a proxy process; the "wire" between the proxies is a direct
// call here (the @fos/proxy package carries the same records over TCP). What is checked: the kernel's
// side of the third delivery mechanism, that a send to another machine behaves as a local one does.

const machines: Machine[] = [];
afterEach(async () => {
  for (const machine of machines.splice(0)) await machine.shutdown();
});

function machineNamed(name: string, options: { queueMessagesMax?: number } = {}): Machine {
  const machine = new Machine({
    fabric: new LocalFabric({ cores: 3 }),
    machine: name,
    log: () => {},
    ...(options.queueMessagesMax === undefined ? {} : { limits: { queueMessagesMax: options.queueMessagesMax } }),
  });
  machines.push(machine);
  return machine;
}

interface ProxyEnd {
  readonly context: ProcessContext;
  attachment: ProxyAttachment;
  /** What this proxy was handed, in order. */
  readonly forwarded: ForwardedMessage[];
  peer: ProxyEnd | undefined;
  /** While set, forwarded sends wait here instead of travelling (a slow wire). */
  held: Array<() => void> | undefined;
}

/** A proxy on core 2 of `machine` that hands every forwarded message straight to its peer's kernel. */
async function proxyOn(machine: Machine): Promise<ProxyEnd> {
  const context = await processOn(machine, 2, 'proxy');
  const end: ProxyEnd = {
    context,
    attachment: undefined as unknown as ProxyAttachment,
    forwarded: [],
    peer: undefined,
    held: undefined,
  };
  const carry = (message: ForwardedMessage): void => {
    const peer = end.peer;
    if (peer === undefined) throw new FosError('UNREACHABLE', `no connection to machine ${message.location.machine}`);
    if (message.kind === 'skip') {
      peer.attachment.skip(message.sender, message.location, message.sequence);
      return;
    }
    const done =
      message.kind === 'alias'
        ? peer.attachment.alias(message.operation, message.location, message.name)
        : peer.attachment.deliver(message);
    done.then(
      () => end.attachment.answer(message.id),
      (error: unknown) => end.attachment.answer(message.id, isFosError(error) ? error : undefined),
    );
  };
  end.attachment = await context.kernel.ukProxyAttach(machine.kernelCapability, (message) => {
    end.forwarded.push(message);
    if (end.held !== undefined) end.held.push(() => carry(message));
    else carry(message);
  });
  return end;
}

async function twoMachines(options: { queueMessagesMax?: number } = {}) {
  const a = machineNamed('alpha');
  const b = machineNamed('beta', options);
  const proxyA = await proxyOn(a);
  const proxyB = await proxyOn(b);
  proxyA.peer = proxyB;
  proxyB.peer = proxyA;
  const server = await processOn(b, 1, 'server');
  const client = await processOn(a, 0, 'client');
  const mailbox = await namedMailbox(server.kernel, '/svc/echo', { queueMessagesMax: 4 });
  return { a, b, proxyA, proxyB, server, client, mailbox };
}

describe('sends to another machine through its proxy', () => {
  it('delivers with the sender stamped by its own machine and the checks of the owner', async () => {
    const { client, server, mailbox, proxyA } = await twoMachines();
    await client.kernel.ukSend('/svc/echo', mailbox.location, mailbox.capability, { hello: 'beta' });
    const received = await server.kernel.receive(mailbox.location);
    expect(received.body).toEqual({ hello: 'beta' });
    expect(received.sender).toEqual({ machine: 'alpha', core: 0, process: client.process });
    expect(received.via).toBe('kernel');
    expect(proxyA.forwarded).toHaveLength(1);
    expect(proxyA.attachment.pending).toBe(0);
  });

  it("edits the aliases of another machine's mailbox with this machine's kernel capability", async () => {
    const { a, client, server, mailbox, proxyA } = await twoMachines();
    await client.kernel.ukAddAlias(a.kernelCapability, mailbox.location, '/svc/alias');
    expect(await server.kernel.mailboxNames(mailbox.location)).toEqual(['/svc/echo', '/svc/alias']);
    await client.kernel.ukSend('/svc/alias', mailbox.location, mailbox.capability, 'by the alias');
    expect((await server.kernel.receive(mailbox.location)).body).toBe('by the alias');
    await client.kernel.ukRemoveAlias(a.kernelCapability, mailbox.location, '/svc/alias');
    expect(await server.kernel.mailboxNames(mailbox.location)).toEqual(['/svc/echo']);
    await expect(client.kernel.ukRemoveAlias(a.kernelCapability, mailbox.location, '/svc/alias')).rejects.toThrow(
      /NO_SUCH_NAME/,
    );
    // Checked on this machine: nothing travels with a wrong capability.
    const travelled = proxyA.forwarded.length;
    await expect(client.kernel.ukAddAlias('x'.repeat(22) as Capability, mailbox.location, '/svc/x')).rejects.toThrow(
      /PERMISSION_DENIED|BAD_REQUEST/,
    );
    expect(proxyA.forwarded).toHaveLength(travelled);
    await expect(
      client.kernel.ukAddAlias(a.kernelCapability, { ...mailbox.location, mailbox: 999 }, '/svc/x'),
    ).rejects.toThrow(/UNREACHABLE/);
  });

  it('answers a wrong name, a wrong capability, a gone mailbox and a full queue with the local codes', async () => {
    const { client, server, mailbox } = await twoMachines();
    const other = await namedMailbox(server.kernel, '/svc/other');
    const send = async (name: string, capability = mailbox.capability, location = mailbox.location) => {
      try {
        await client.kernel.ukSend(name, location, capability, 1);
        return 'ok';
      } catch (error) {
        if (!isFosError(error)) throw error;
        if (error.details.sequence !== undefined) client.kernel.abandonSend(location, error.details.sequence);
        return error.code;
      }
    };
    expect(await send('/svc/nope')).toBe('NO_SUCH_NAME');
    expect(await send('/svc/echo', other.capability)).toBe('PERMISSION_DENIED');
    expect(await send('/svc/echo')).toBe('ok');
    for (let fill = 0; fill < 3; fill++) expect(await send('/svc/echo')).toBe('ok');
    expect(await send('/svc/echo')).toBe('WOULD_BLOCK');
    await server.kernel.destroyMailbox(other.location);
    expect(await send('/svc/other', other.capability, other.location)).toBe('UNREACHABLE');
    // The refusals were abandoned: the stream goes on, in order.
    await server.kernel.receive(mailbox.location);
    expect(await send('/svc/echo')).toBe('ok');
  });

  it('keeps a stream in order with many sends in flight, and a refused one re-sent fills its gap', async () => {
    const { client, server, mailbox } = await twoMachines({ queueMessagesMax: 64 });
    const big = await namedMailbox(server.kernel, '/svc/big', { queueMessagesMax: 64 });
    const sends = Array.from({ length: 50 }, (_, index) =>
      client.kernel.ukSend('/svc/big', big.location, big.capability, index),
    );
    await Promise.all(sends);
    const bodies: unknown[] = [];
    for (let index = 0; index < 50; index++) bodies.push((await server.kernel.receive(big.location)).body);
    expect(bodies).toEqual(Array.from({ length: 50 }, (_, index) => index));
    // A refusal (full queue) re-sent with resendOf.
    for (let index = 0; index < 4; index++)
      await client.kernel.ukSend('/svc/echo', mailbox.location, mailbox.capability, index);
    const refused = await client.kernel.ukSend('/svc/echo', mailbox.location, mailbox.capability, 4).then(
      () => undefined,
      (error: unknown) => error as FosError,
    );
    expect(refused?.code).toBe('WOULD_BLOCK');
    await server.kernel.receive(mailbox.location);
    await client.kernel.ukSend('/svc/echo', mailbox.location, mailbox.capability, 4, {
      resendOf: refused!.details.sequence!,
    });
    const rest: unknown[] = [];
    for (let index = 0; index < 4; index++) rest.push((await server.kernel.receive(mailbox.location)).body);
    expect(rest).toEqual([1, 2, 3, 4]);
  });

  it('is UNREACHABLE without a proxy, without a connection, and once the proxy ends', async () => {
    const lone = machineNamed('lone');
    const client = await processOn(lone, 0);
    const far = { machine: 'beta', core: 1, mailbox: 1 };
    const capability = (await client.kernel.createMailbox()).capability;
    await expect(client.kernel.ukSend('/svc/echo', far, capability, 1)).rejects.toMatchObject({
      code: 'UNREACHABLE',
    });
    const { proxyA, client: alphaClient, mailbox } = await twoMachines();
    proxyA.peer = undefined;
    await expect(alphaClient.kernel.ukSend('/svc/echo', mailbox.location, mailbox.capability, 1)).rejects.toThrow(
      /no connection to machine beta/,
    );
    proxyA.peer = undefined;
    proxyA.held = [];
    const waiting = alphaClient.kernel.ukSend('/svc/echo', mailbox.location, mailbox.capability, 2);
    await expect.poll(() => proxyA.attachment.pending, { timeout: 20_000 }).toBe(1);
    proxyA.context.exit();
    await expect(waiting).rejects.toMatchObject({ code: 'UNREACHABLE' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await expect(alphaClient.kernel.ukSend('/svc/echo', mailbox.location, mailbox.capability, 3)).rejects.toThrow(
      /has no proxy/,
    );
  });

  it('refuses a second proxy, a wrong kernel capability, and a foreign delivery that claims this machine', async () => {
    const { a, proxyA, proxyB, mailbox, b } = await twoMachines();
    const second = await processOn(a, 1, 'second');
    await expect(second.kernel.ukProxyAttach(a.kernelCapability, () => {})).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await expect(second.kernel.ukProxyAttach(b.kernelCapability, () => {})).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
    });
    await expect(
      proxyB.attachment.deliver({
        sender: { machine: 'beta', core: 0, process: 'beta.0.1' },
        location: mailbox.location,
        destinationName: '/svc/echo',
        capability: mailbox.capability,
        sequence: 0,
        bytes: new Uint8Array([0x01]),
      }),
    ).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(
      proxyB.attachment.deliver({
        sender: { machine: 'alpha', core: 0, process: 'alpha.0.9' },
        location: mailbox.location,
        destinationName: '/svc/echo',
        capability: mailbox.capability,
        sequence: 0,
        bytes: new Uint8Array(2 ** 20),
      }),
    ).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    // Detached: the attachment answers SHUTDOWN, the machine forwards nothing more.
    await proxyA.attachment.detach();
    await expect(
      proxyA.attachment.deliver({
        sender: { machine: 'beta', core: 0, process: 'beta.0.1' },
        location: { machine: 'alpha', core: 0, mailbox: 1 },
        destinationName: '/x',
        capability: mailbox.capability,
        sequence: 0,
        bytes: new Uint8Array([1]),
      }),
    ).rejects.toMatchObject({ code: 'SHUTDOWN' });
  });

  it('keeps channels and unchecked sends on their machine: a channel to another machine is refused', async () => {
    const { client, mailbox } = await twoMachines();
    await expect(client.kernel.createChannel('/svc/echo', mailbox.location, mailbox.capability)).rejects.toMatchObject({
      code: 'UNREACHABLE',
    });
  });
});
