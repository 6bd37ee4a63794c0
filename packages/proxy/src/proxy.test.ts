import { afterEach, describe, expect, it } from 'vitest';
import { FosError, isFosError } from '@fos/base';
import { LocalFabric, Machine, type Capability, type MailboxLocation, type ProcessContext } from '@fos/microkernel';
import { encodeFrame } from './frames.js';
import { linkPair } from './link.js';
import { proxyAsksInFlightMax, proxyBufferedBytesMax, type Proxy, type ProxyQuestionHandler } from './proxy-api.js';
import { startProxy } from './proxy.js';

const machines: Machine[] = [];
afterEach(async () => {
  for (const machine of machines.splice(0)) await machine.shutdown();
});

async function processOn(machine: Machine, core: number, name: string): Promise<ProcessContext> {
  let captured: ProcessContext | undefined;
  await machine.spawn({ core, name, function: (context) => void (captured = context) });
  return captured!;
}

/** A machine of 2 cores with its proxy on core 1. */
async function machineWithProxy(
  name: string,
  logs: string[] = [],
  onQuestion?: ProxyQuestionHandler,
): Promise<{ machine: Machine; proxy: Proxy }> {
  const machine = new Machine({ fabric: new LocalFabric({ cores: 2 }), machine: name, log: () => {} });
  machines.push(machine);
  const context = await processOn(machine, 1, 'proxy');
  const proxy = await startProxy(context, {
    kernelCapability: machine.kernelCapability,
    listen: `${name}.test:1`,
    log: (line) => logs.push(line),
    ...(onQuestion === undefined ? {} : { onQuestion }),
  });
  return { machine, proxy };
}

async function connected(windowBytes?: number) {
  const logs: string[] = [];
  const a = await machineWithProxy('alpha', logs);
  const b = await machineWithProxy('beta', logs);
  const [toB, toA] = linkPair(['alpha', 'beta'], windowBytes === undefined ? {} : { windowBytes });
  const [peerOfA, peerOfB] = await Promise.all([a.proxy.addLink(toB), b.proxy.addLink(toA)]);
  const server = await processOn(b.machine, 0, 'server');
  const client = await processOn(a.machine, 0, 'client');
  const mailbox = await server.kernel.createMailbox({ queueMessagesMax: 8 });
  await server.kernel.addName(mailbox.location, '/svc/echo');
  return { a, b, peerOfA, peerOfB, server, client, mailbox, logs, toB, toA };
}

/** The bytes of a `deliver` frame from `sender` to `mailbox`, sequence 0. */
function deliverFrame(
  sender: { machine: string; core: number; process: string },
  mailbox: { location: MailboxLocation; capability: Capability },
): Uint8Array {
  return encodeFrame(
    {
      type: 'deliver',
      id: 1,
      sender,
      location: mailbox.location,
      destinationName: '/svc/echo',
      capability: mailbox.capability,
      sequence: 0,
      bytes: new Uint8Array([1]),
    },
    65536,
  );
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (isFosError(error)) return error.code;
    throw error;
  }
}

describe('the proxy between two machines', () => {
  it('introduces both ends and carries sends both ways with the checks of the owner', async () => {
    const { peerOfA, peerOfB, client, server, mailbox, a, b } = await connected();
    expect(peerOfA).toMatchObject({ machine: 'beta', listen: 'beta.test:1' });
    expect(peerOfB).toMatchObject({ machine: 'alpha', listen: 'alpha.test:1' });
    expect(a.proxy.peers().map((peer) => peer.machine)).toEqual(['beta']);
    await client.kernel.ukSend('/svc/echo', mailbox.location, mailbox.capability, { n: 1, big: 'x'.repeat(5000) });
    const received = await server.kernel.receive(mailbox.location);
    expect(received.body).toEqual({ n: 1, big: 'x'.repeat(5000) });
    expect(received.sender).toEqual({ machine: 'alpha', core: 0, process: client.process });
    // And back: the server answers the client's own mailbox on alpha.
    const reply = await client.kernel.createMailbox();
    await client.kernel.addName(reply.location, '/client/reply');
    await server.kernel.ukSend('/client/reply', reply.location, reply.capability, 'pong');
    expect((await client.kernel.receive(reply.location)).body).toBe('pong');
    expect(await codeOf(client.kernel.ukSend('/svc/nope', mailbox.location, mailbox.capability, 1))).toBe(
      'NO_SUCH_NAME',
    );
    expect(a.proxy.stats()).toMatchObject({ connections: 1, forwarded: 2, delivered: 1 });
    expect(b.proxy.stats()).toMatchObject({ delivered: 1 });
  });

  it('keeps 200 pipelined sends of one stream in order', async () => {
    const { client, server } = await connected();
    const box = await server.kernel.createMailbox({ queueMessagesMax: 256 });
    await server.kernel.addName(box.location, '/svc/many');
    await Promise.all(
      Array.from({ length: 200 }, (_, index) => client.kernel.ukSend('/svc/many', box.location, box.capability, index)),
    );
    const bodies: unknown[] = [];
    for (let index = 0; index < 200; index++) bodies.push((await server.kernel.receive(box.location)).body);
    expect(bodies).toEqual(Array.from({ length: 200 }, (_, index) => index));
  });

  it('fails sends in flight and later ones with UNREACHABLE when the other machine goes', async () => {
    const { client, mailbox, toA, logs, a } = await connected();
    // The other side stops reading, then vanishes: nothing waits for it.
    toA.pause();
    const inFlight = client.kernel.ukSend('/svc/echo', mailbox.location, mailbox.capability, 1);
    await new Promise((resolve) => setImmediate(resolve));
    toA.close('machine beta was killed');
    expect(await codeOf(inFlight)).toBe('UNREACHABLE');
    await new Promise((resolve) => setImmediate(resolve));
    const later = await client.kernel.ukSend('/svc/echo', mailbox.location, mailbox.capability, 2).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(later).toMatchObject({ code: 'UNREACHABLE' });
    expect(String(later)).toMatch(/beta is not connected to alpha/);
    expect(a.proxy.peers()).toEqual([]);
    expect(logs.join('\n')).toMatch(/connection beta closed/);
  });

  it('refuses sends with WOULD_BLOCK while a peer that stopped reading holds proxyBufferedBytesMax', async () => {
    const { client, server, toA } = await connected(1024);
    const box = await server.kernel.createMailbox({ queueMessagesMax: 1024 });
    await server.kernel.addName(box.location, '/svc/slow');
    toA.pause();
    const body = new Uint8Array(60 * 1024);
    const codes: string[] = [];
    const sends: Array<Promise<string>> = [];
    // Far more than proxyBufferedBytesMax: the first ones queue, the rest are refused, memory stays bounded.
    for (let index = 0; index < Math.ceil((2 * proxyBufferedBytesMax) / body.length); index++) {
      sends.push(
        client.kernel.ukSend('/svc/slow', box.location, box.capability, body).then(
          () => 'ok',
          (error: unknown) => {
            if (!isFosError(error)) throw error;
            if (error.details.sequence !== undefined) client.kernel.abandonSend(box.location, error.details.sequence);
            return error.code;
          },
        ),
      );
      await new Promise((resolve) => setImmediate(resolve));
    }
    toA.resume();
    codes.push(...(await Promise.all(sends)));
    expect(codes).toContain('WOULD_BLOCK');
    const accepted = codes.filter((code) => code === 'ok').length;
    expect(accepted).toBeGreaterThan(0);
    expect(accepted * body.length).toBeLessThanOrEqual(proxyBufferedBytesMax + 64 * 1024 + 2 * body.length);
    expect(server.kernel.pendingMessages(box.location)).toBe(accepted);
  });

  it('closes a connection that breaks the protocol, and delivers nothing of it', async () => {
    const { b, server, mailbox, client } = await connected();
    const logs: string[] = [];
    const intruder = await machineWithProxy('gamma', logs);
    const [toB, rogue] = linkPair(['gamma', 'beta']);
    const joined = b.proxy.addLink(toB);
    const rogueClosed = new Promise<string>((resolve) =>
      rogue.open({ data: () => {}, drain: () => {}, closed: (reason) => resolve(reason) }),
    );
    // A deliver before hello.
    rogue.write(deliverFrame({ machine: 'gamma', core: 0, process: 'gamma.0.1' }, mailbox));
    expect(await codeOf(joined)).toBe('UNREACHABLE');
    await rogueClosed;
    expect(server.kernel.pendingMessages(mailbox.location)).toBe(0);
    expect(b.proxy.stats().refusedFrames).toBe(1);
    // A second machine called alpha is refused; the first one keeps working.
    const [toB2, fake] = linkPair(['alpha', 'beta']);
    const second = b.proxy.addLink(toB2);
    const fakeClosed = new Promise<string>((resolve) =>
      fake.open({ data: () => {}, drain: () => {}, closed: (reason) => resolve(reason) }),
    );
    fake.write(encodeFrame({ type: 'hello', protocol: 1, machine: 'alpha', listen: null }, 65536));
    expect(await codeOf(second)).toBe('CONFLICT');
    await fakeClosed;
    await client.kernel.ukSend('/svc/echo', mailbox.location, mailbox.capability, 'still here');
    expect((await server.kernel.receive(mailbox.location)).body).toBe('still here');
    await intruder.proxy.close();
  });

  it('closes a link whose peer claims another machine as the sender', async () => {
    const { b, mailbox, server } = await connected();
    const [toB, rogue] = linkPair(['gamma', 'beta']);
    const joined = b.proxy.addLink(toB);
    rogue.open({ data: () => {}, drain: () => {}, closed: () => {} });
    rogue.write(encodeFrame({ type: 'hello', protocol: 1, machine: 'gamma', listen: null }, 65536));
    expect((await joined).machine).toBe('gamma');
    const closed = new Promise<void>((resolve) => {
      const check = (): void => {
        if (b.proxy.peers().every((peer) => peer.machine !== 'gamma')) resolve();
        else setTimeout(check, 1);
      };
      check();
    });
    rogue.write(deliverFrame({ machine: 'alpha', core: 0, process: 'alpha.0.1' }, mailbox));
    await closed;
    expect(server.kernel.pendingMessages(mailbox.location)).toBe(0);
  });

  it('carries questions between machines: replies, refusals, limits, and a connection that closes', async () => {
    const logs: string[] = [];
    let hold: (() => void) | undefined;
    const a = await machineWithProxy('alpha', logs);
    const b = await machineWithProxy('beta', logs, async (peer, topic, question) => {
      if (topic === 'refuse') throw new FosError('CONFLICT', 'no, thank you', { value: question });
      if (topic === 'hold') await new Promise<void>((resolve) => (hold = resolve));
      if (topic === 'huge') return new Uint8Array(1 << 20);
      if (topic === 'throws') throw new Error('a bug in the handler');
      return { from: peer.machine, topic, question };
    });
    const [toB, toA] = linkPair(['alpha', 'beta']);
    await Promise.all([a.proxy.addLink(toB), b.proxy.addLink(toA)]);
    expect(await a.proxy.ask('beta', 'join', { machine: 'alpha', n: [1, 2] })).toEqual({
      from: 'alpha',
      topic: 'join',
      question: { machine: 'alpha', n: [1, 2] },
    });
    await expect(a.proxy.ask('beta', 'refuse', 7)).rejects.toThrow(/CONFLICT: no, thank you/);
    await expect(a.proxy.ask('beta', 'huge', 0)).rejects.toThrow(/MESSAGE_TOO_LARGE/);
    await expect(a.proxy.ask('beta', 'throws', 0)).rejects.toThrow(/BAD_REQUEST: machine beta could not answer throws/);
    // The other way: alpha answers no questions.
    await expect(b.proxy.ask('alpha', 'join', 0)).rejects.toThrow(/BAD_REQUEST: machine alpha answers no questions/);
    expect(await codeOf(a.proxy.ask('gamma', 'join', 0))).toBe('UNREACHABLE');
    expect(await codeOf(a.proxy.ask('beta', 'join', new Uint8Array(1 << 20)))).toBe('MESSAGE_TOO_LARGE');
    // At most proxyAsksInFlightMax unanswered at once; the connection closing fails them all.
    const held = Array.from({ length: proxyAsksInFlightMax }, () => codeOf(a.proxy.ask('beta', 'hold', 0)));
    expect(await codeOf(a.proxy.ask('beta', 'join', 0))).toBe('LIMIT_EXCEEDED');
    await expect.poll(() => hold, { timeout: 20_000 }).toBeDefined();
    toA.close('beta went away');
    expect(new Set(await Promise.all(held))).toEqual(new Set(['UNREACHABLE']));
    expect(a.proxy.stats().refusedFrames).toBe(0);
  });

  it('closes a connection that sends an unasked reply or floods questions', async () => {
    const logs: string[] = [];
    const a = await machineWithProxy('alpha', logs);
    const b = await machineWithProxy('beta', logs, () => new Promise(() => {}));
    const [toB, toA] = linkPair(['alpha', 'beta']);
    await Promise.all([a.proxy.addLink(toB), b.proxy.addLink(toA)]);
    toB.write(encodeFrame({ type: 'reply', id: 99, body: new Uint8Array(0) }, 65536));
    await expect.poll(() => b.proxy.peers(), { timeout: 20_000 }).toEqual([]);
    expect(logs.some((line) => line.includes('a reply to question 99, which was not asked of alpha'))).toBe(true);
    const [toB2, toA2] = linkPair(['alpha', 'beta']);
    await Promise.all([a.proxy.addLink(toB2), b.proxy.addLink(toA2)]);
    for (let id = 1; id <= proxyAsksInFlightMax + 1; id++)
      toB2.write(encodeFrame({ type: 'ask', id, topic: 'join', body: new Uint8Array([0xc0]) }, 65536));
    await expect.poll(() => b.proxy.peers(), { timeout: 20_000 }).toEqual([]);
    expect(logs.some((line) => line.includes('more than proxyAsksInFlightMax'))).toBe(true);
  });
});
