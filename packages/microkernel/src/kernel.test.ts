import { describe, expect, it } from 'vitest';
import { hasFosErrorCode, isFosError } from '@fos/base';
import { codeOf, codeOfCall } from '@fos/base/testing';
import type { Capability } from './capability.js';
import { namedMailbox, processOn, sendWithRetry, sleep, testMachine, type TestFabricKind } from './internal/testing.js';
import type { MailboxLocation } from './location.js';
import type { Machine } from './machine.js';

function flipOneBit(capability: Capability): Capability {
  const bytes = Buffer.from(capability, 'base64url');
  bytes[5]! ^= 0x10;
  return bytes.toString('base64url') as Capability;
}

async function withMachine(
  kind: TestFabricKind,
  run: (machine: Machine, crashes: string[]) => Promise<void>,
  options: Parameters<typeof testMachine>[1] = {},
): Promise<void> {
  const { machine, crashes } = testMachine(kind, options);
  try {
    await run(machine, crashes);
  } finally {
    await machine.shutdown();
  }
}

/** The processes of a move: an owner (core 1) with a mailbox named `name`, a successor (core 2) and a client (core 3). */
async function moveParties(machine: Machine, name: string) {
  const owner = await processOn(machine, 1, 'owner');
  const successor = await processOn(machine, 2, 'successor');
  const client = await processOn(machine, 3, 'client');
  return { owner, successor, client, ...(await namedMailbox(owner.kernel, name)) };
}

describe.each(['local', 'sim'] as const)('microkernel on %s fabric', (kind) => {
  it('delivers a ukSend across cores with the sender stamped by the kernel', () =>
    withMachine(kind, async (machine) => {
      const server = await processOn(machine, 1, 'server');
      const client = await processOn(machine, 2, 'client');
      const { location, capability } = await namedMailbox(server.kernel, '/svc/echo');
      await client.kernel.ukSend('/svc/echo', location, capability, { hello: 'world', n: 1n });
      expect(server.kernel.pendingMessages(location)).toBe(1);
      const received = await server.kernel.receive(location);
      expect(server.kernel.pendingMessages(location)).toBe(0);
      expect(received.body).toEqual({ hello: 'world', n: 1n });
      expect(received.sender).toEqual({ machine: 'm0', core: 2, process: client.process });
      expect(received.destinationName).toBe('/svc/echo');
      expect(received.via).toBe('kernel');
      expect(server.kernel.tryReceive(location)).toBeUndefined();
    }));

  it('refuses a wrong name, a wrong capability and a stale location with the documented codes', () =>
    withMachine(kind, async (machine) => {
      const server = await processOn(machine, 1);
      const client = await processOn(machine, 3);
      const first = await namedMailbox(server.kernel, '/svc/a');
      const second = await namedMailbox(server.kernel, '/svc/b');
      // Each refusal leaves a gap in the stream; give the refused send up, as a caller that does not retry would.
      const send = (name: string, location: MailboxLocation, capability: Capability, body: unknown = 1) =>
        codeOf(
          client.kernel.ukSend(name, location, capability, body as never).catch((error: unknown) => {
            if (isFosError(error) && error.details.sequence !== undefined)
              client.kernel.abandonSend(location, error.details.sequence);
            throw error;
          }),
        );
      expect(await send('/svc/other', first.location, first.capability)).toBe('NO_SUCH_NAME');
      expect(await send('/svc/b', first.location, first.capability)).toBe('NO_SUCH_NAME');
      expect(await send('/svc/a', first.location, flipOneBit(first.capability))).toBe('PERMISSION_DENIED');
      expect(await send('/svc/a', first.location, second.capability)).toBe('PERMISSION_DENIED');
      expect(await send('/svc/a', first.location, 'garbage' as Capability)).toBe('PERMISSION_DENIED');
      expect(await send('bad name', first.location, first.capability)).toBe('INVALID_NAME');
      expect(await send('/svc/a', first.location, first.capability, () => 1)).toBe('BAD_REQUEST');
      expect(await send('/svc/a', first.location, first.capability, new Uint8Array(70_000))).toBe('MESSAGE_TOO_LARGE');
      expect(await send('/svc/a', { machine: 'm0', core: 99, mailbox: 1 }, first.capability)).toBe('UNREACHABLE');
      expect(await send('/svc/a', { machine: 'other', core: 1, mailbox: 1 }, first.capability)).toBe('UNREACHABLE');
      expect(await send('/svc/a', { core: 1 } as never, first.capability)).toBe('BAD_REQUEST');
      await server.kernel.destroyMailbox(first.location);
      expect(await send('/svc/a', first.location, first.capability)).toBe('UNREACHABLE');
      // The refusals lost nothing and did not disturb the other mailbox.
      await client.kernel.ukSend('/svc/b', second.location, second.capability, 'ok');
      expect((await server.kernel.receive(second.location)).body).toBe('ok');
    }));

  it('accepts a stream only in sequence: a refusal leaves a gap that its re-send or abandonment fills', () =>
    withMachine(kind, async (machine) => {
      const server = await processOn(machine, 1);
      const client = await processOn(machine, 2);
      const { location, capability } = await namedMailbox(server.kernel, '/svc/seq');
      const wrong = flipOneBit(capability);
      const refused = await client.kernel.ukSend('/svc/seq', location, wrong, 'first').catch((error: unknown) => error);
      expect(hasFosErrorCode(refused, 'PERMISSION_DENIED') && refused.details.sequence).toBe(0);
      const blocked = await client.kernel
        .ukSend('/svc/seq', location, capability, 'second')
        .catch((error: unknown) => error);
      expect(hasFosErrorCode(blocked, 'WOULD_BLOCK') && blocked.details.sequence).toBe(1);
      expect(server.kernel.tryReceive(location)).toBeUndefined();
      await client.kernel.ukSend('/svc/seq', location, capability, 'first again', { resendOf: 0 });
      await client.kernel.ukSend('/svc/seq', location, capability, 'second again', { resendOf: 1 });
      expect(await codeOf(client.kernel.ukSend('/svc/seq', location, capability, 'x', { resendOf: 1 }))).toBe(
        'BAD_REQUEST',
      );
      const refusedAgain = await client.kernel
        .ukSend('/svc/seq', location, wrong, 'third')
        .catch((error: unknown) => error);
      expect(hasFosErrorCode(refusedAgain, 'PERMISSION_DENIED')).toBe(true);
      client.kernel.abandonSend(location, 2);
      expect(() => client.kernel.abandonSend(location, 2)).toThrow(/BAD_REQUEST/);
      await client.kernel.ukSend('/svc/seq', location, capability, 'fourth');
      const bodies = [
        server.kernel.tryReceive(location),
        server.kernel.tryReceive(location),
        server.kernel.tryReceive(location),
      ].map((message) => message?.body);
      expect(bodies).toEqual(['first again', 'second again', 'fourth']);
    }));

  it('answers WOULD_BLOCK on a full queue, loses nothing, and keeps issue order for many sends outstanding', () =>
    withMachine(kind, async (machine) => {
      const server = await processOn(machine, 1);
      const client = await processOn(machine, 2);
      const { location, capability } = await namedMailbox(server.kernel, '/svc/slow', { queueMessagesMax: 4 });
      const count = 60;
      const sends = Array.from({ length: count }, (_, index) =>
        sendWithRetry(client.kernel, client.clock, '/svc/slow', location, capability, index),
      );
      const received: number[] = [];
      while (received.length < count) {
        const message = server.kernel.tryReceive(location);
        if (message === undefined) await sleep(server.clock, 2);
        else received.push(message.body as number);
      }
      const attempts = await Promise.all(sends);
      expect(received).toEqual(Array.from({ length: count }, (_, index) => index));
      expect(Math.max(...attempts)).toBeGreaterThan(1);
      expect(machine.stats().refused).toBeGreaterThan(0);
    }));

  it('lets only the owner receive from, name or revoke a mailbox', () =>
    withMachine(kind, async (machine) => {
      const owner = await processOn(machine, 1);
      const neighbour = await processOn(machine, 1);
      const remote = await processOn(machine, 2);
      const { location, capability } = await namedMailbox(owner.kernel, '/svc/own');
      expect(() => neighbour.kernel.tryReceive(location)).toThrow(/PERMISSION_DENIED/);
      expect(await codeOf(neighbour.kernel.addName(location, '/svc/steal'))).toBe('PERMISSION_DENIED');
      expect(await codeOf(neighbour.kernel.removeCapability(location, capability))).toBe('PERMISSION_DENIED');
      expect(await codeOf(remote.kernel.receive(location))).toBe('PERMISSION_DENIED');
      expect(await codeOf(owner.kernel.addName(location, '/sys/name'))).toBe('INVALID_NAME');
      expect(await codeOf(owner.kernel.removeName(location, '/svc/none'))).toBe('NO_SUCH_NAME');
      expect(await codeOf(owner.kernel.removeCapability(location, flipOneBit(capability)))).toBe('PERMISSION_DENIED');
      expect(await owner.kernel.mailboxNames(location)).toEqual(['/svc/own']);
    }));

  it("answers PERMISSION_DENIED for another process's mailbox on its own core and on another core alike", () =>
    withMachine(kind, async (machine) => {
      const owner = await processOn(machine, 1, 'owner');
      const { location, capability } = await namedMailbox(owner.kernel, '/svc/owned');
      const successor = await namedMailbox(owner.kernel, '/svc/successor');
      for (const prober of [await processOn(machine, 1, 'neighbour'), await processOn(machine, 2, 'remote')]) {
        const { kernel } = prober;
        const codes = {
          // What aliasRegisterDirect of libfos does first, then the add itself.
          mailboxNames: await codeOf(kernel.mailboxNames(location)),
          addName: await codeOf(kernel.addName(location, '/svc/stolen')),
          removeName: await codeOf(kernel.removeName(location, '/svc/owned')),
          addCapability: await codeOf(kernel.addCapability(location)),
          removeCapability: await codeOf(kernel.removeCapability(location, capability)),
          destroyMailbox: await codeOf(kernel.destroyMailbox(location)),
          receive: await codeOf(kernel.receive(location)),
          tryReceive: codeOfCall(() => kernel.tryReceive(location)),
          pendingMessages: codeOfCall(() => kernel.pendingMessages(location)),
          onReadable: codeOfCall(() => kernel.onReadable(location, null)),
          moveMailbox: await codeOf(kernel.moveMailbox(location, successor.location, successor.capability)),
          ukNameServiceRegister: await codeOf(
            kernel.ukNameServiceRegister(location, machine.kernelCapability, capability),
          ),
        };
        const others = Object.entries(codes).filter(([, code]) => code !== 'PERMISSION_DENIED');
        expect({ core: prober.core, others }).toEqual({ core: prober.core, others: [] });
      }
      expect(await owner.kernel.mailboxNames(location)).toEqual(['/svc/owned']);
      // UNREACHABLE stays for what is not there: a core the machine lacks, another machine, a destroyed mailbox.
      const remote = await processOn(machine, 2, 'prober');
      expect(await codeOf(remote.kernel.mailboxNames({ ...location, core: 9 }))).toBe('UNREACHABLE');
      expect(await codeOf(remote.kernel.addName({ ...location, machine: 'm9' }, '/svc/x'))).toBe('UNREACHABLE');
      await owner.kernel.destroyMailbox(location);
      expect(await codeOf(owner.kernel.mailboxNames(location))).toBe('UNREACHABLE');
    }));

  it('adds and revokes capabilities and names', () =>
    withMachine(kind, async (machine) => {
      const server = await processOn(machine, 0);
      const client = await processOn(machine, 3);
      const { location, capability } = await namedMailbox(server.kernel, '/svc/caps');
      const second = await server.kernel.addCapability(location);
      await client.kernel.ukSend('/svc/caps', location, second, 1);
      await server.kernel.removeCapability(location, second);
      expect(await codeOf(client.kernel.ukSend('/svc/caps', location, second, 2))).toBe('PERMISSION_DENIED');
      client.kernel.abandonSend(location, 1);
      await server.kernel.addName(location, '/svc/alias');
      await client.kernel.ukSend('/svc/alias', location, capability, 3);
      await server.kernel.removeName(location, '/svc/alias');
      expect(await codeOf(client.kernel.ukSend('/svc/alias', location, capability, 4))).toBe('NO_SUCH_NAME');
      expect([server.kernel.tryReceive(location)?.body, server.kernel.tryReceive(location)?.body]).toEqual([1, 3]);
    }));

  it('guards ukAddAlias and ukRemoveAlias with the kernel capability (Table 4.5)', () =>
    withMachine(kind, async (machine) => {
      const server = await processOn(machine, 1);
      const nameServer = await processOn(machine, 2);
      const client = await processOn(machine, 3);
      const { location, capability } = await namedMailbox(server.kernel, '/sys/fs/1');
      expect(await codeOf(nameServer.kernel.ukAddAlias(capability, location, '/sys/fs'))).toBe('PERMISSION_DENIED');
      await nameServer.kernel.ukAddAlias(machine.kernelCapability, location, '/sys/fs');
      expect(await server.kernel.mailboxNames(location)).toEqual(['/sys/fs/1', '/sys/fs']);
      await client.kernel.ukSend('/sys/fs', location, capability, 'via the indirect name');
      expect((await server.kernel.receive(location)).destinationName).toBe('/sys/fs');
      await nameServer.kernel.ukRemoveAlias(machine.kernelCapability, location, '/sys/fs');
      expect(await codeOf(client.kernel.ukSend('/sys/fs', location, capability, 'stale'))).toBe('NO_SUCH_NAME');
      expect(await codeOf(nameServer.kernel.ukRemoveAlias(machine.kernelCapability, location, '/sys/fs'))).toBe(
        'NO_SUCH_NAME',
      );
      expect(
        await codeOf(nameServer.kernel.ukAddAlias(machine.kernelCapability, { ...location, mailbox: 999 }, '/x')),
      ).toBe('UNREACHABLE');
    }));

  it('registers name servers and lets one answer a nameless mailbox once per request (§5.2)', () =>
    withMachine(kind, async (machine) => {
      const nameServer = await processOn(machine, 1, 'name-server');
      const client = await processOn(machine, 2, 'client');
      expect(await codeOf(client.kernel.ukNameServiceLookup())).toBe('NO_SUCH_NAME');
      const service = await nameServer.kernel.createMailbox();
      expect(
        await codeOf(nameServer.kernel.ukNameServiceRegister(service.location, service.capability, service.capability)),
      ).toBe('PERMISSION_DENIED');
      await nameServer.kernel.ukNameServiceRegister(service.location, machine.kernelCapability, service.capability);
      const found = await client.kernel.ukNameServiceLookup();
      expect(found).toEqual({ location: service.location, capability: service.capability });
      const reply = await client.kernel.createMailbox();
      // No request delivered yet: no unchecked reply allowed.
      expect(await codeOf(nameServer.kernel.ukUncheckedSend(machine.kernelCapability, reply.location, 'unasked'))).toBe(
        'PERMISSION_DENIED',
      );
      // A name server is addressed as /sys/name, a name no mailbox holds and the table never stores.
      await client.kernel.ukSend('/sys/name', found.location, found.capability, { replyTo: reply.location });
      await nameServer.kernel.receive(service.location);
      expect(
        await codeOf(nameServer.kernel.ukUncheckedSend(reply.capability, reply.location, 'wrong capability')),
      ).toBe('PERMISSION_DENIED');
      await nameServer.kernel.ukUncheckedSend(machine.kernelCapability, reply.location, 'your first reply');
      const received = await client.kernel.receive(reply.location);
      expect(received).toMatchObject({ body: 'your first reply', destinationName: null, via: 'unchecked' });
      expect(
        await codeOf(nameServer.kernel.ukUncheckedSend(machine.kernelCapability, reply.location, 'a second one')),
      ).toBe('PERMISSION_DENIED');
      await nameServer.kernel.ukNameServiceUnregister(service.location, machine.kernelCapability);
      expect(await codeOf(client.kernel.ukNameServiceLookup())).toBe('NO_SUCH_NAME');
      expect(await codeOf(nameServer.kernel.ukNameServiceUnregister(service.location, machine.kernelCapability))).toBe(
        'NO_SUCH_NAME',
      );
    }));

  it('takes a channel under /sys/name to a name server, grants no unchecked reply through it, and shoots it down when the server unregisters', () =>
    withMachine(kind, async (machine) => {
      const nameServer = await processOn(machine, 1, 'name-server');
      const client = await processOn(machine, 2, 'client');
      const service = await nameServer.kernel.createMailbox();
      expect(await codeOf(client.kernel.createChannel('/sys/name', service.location, service.capability))).toBe(
        'NO_SUCH_NAME',
      );
      await nameServer.kernel.ukNameServiceRegister(service.location, machine.kernelCapability, service.capability);
      const channel = await client.kernel.createChannel('/sys/name', service.location, service.capability);
      const reply = await client.kernel.createMailbox();
      await channel.send({ request: 1 });
      expect((await nameServer.kernel.receive(service.location)).via).toBe('channel');
      // A ring delivery grants no unchecked reply (a client with a nameless reply address stays on the kernel path).
      expect(await codeOf(nameServer.kernel.ukUncheckedSend(machine.kernelCapability, reply.location, 'unasked'))).toBe(
        'PERMISSION_DENIED',
      );
      await channel.send({ request: 2 });
      await nameServer.kernel.ukNameServiceUnregister(service.location, machine.kernelCapability);
      // What the ring held before is delivered; the next write meets the shot-down channel.
      expect((await nameServer.kernel.receive(service.location)).body).toEqual({ request: 2 });
      expect(await codeOf(channel.send({ request: 3 }))).toBe('PERMISSION_DENIED');
      expect(channel.closed).toBe(true);
    }));

  it('moves a mailbox to a successor: queue in order with stamps, names and capabilities; the old one refuses', () =>
    withMachine(kind, async (machine) => {
      const { owner, successor, client, location, capability } = await moveParties(machine, '/svc/moving');
      const extra = await owner.kernel.addCapability(location);
      for (let index = 0; index < 3; index++) await client.kernel.ukSend('/svc/moving', location, capability, index);
      const writer = await client.kernel.createChannel('/svc/moving', location, extra);
      await writer.send('by channel');
      const target = await successor.kernel.createMailbox();
      // Refusals first: no consent, onto itself, someone else's mailbox; each leaves the old one as it was.
      expect(await codeOf(owner.kernel.moveMailbox(location, target.location, capability))).toBe('PERMISSION_DENIED');
      expect(await codeOf(owner.kernel.moveMailbox(location, location, capability))).toBe('BAD_REQUEST');
      expect(await codeOf(client.kernel.moveMailbox(location, target.location, target.capability))).toBe(
        'PERMISSION_DENIED',
      );
      // The refused moves left the old mailbox as it was: its channel is open, its queue still waits for the drain.
      expect(writer.closed).toBe(false);
      expect(await owner.kernel.mailboxNames(location)).toEqual(['/svc/moving']);
      const moved = await owner.kernel.moveMailbox(location, target.location, target.capability);
      expect(moved).toEqual({ location: target.location, messages: 4, names: ['/svc/moving'] });
      expect(await codeOf(writer.send('late'))).toBe('UNREACHABLE');
      expect(
        await codeOf(
          client.kernel.ukSend('/svc/moving', location, capability, 'late').catch((error: unknown) => {
            if (isFosError(error) && error.details.sequence !== undefined)
              client.kernel.abandonSend(location, error.details.sequence);
            throw error;
          }),
        ),
      ).toBe('UNREACHABLE');
      expect(() => owner.kernel.pendingMessages(location)).toThrow(/UNREACHABLE/);
      // The successor holds the name and both capabilities; a fresh stream to it starts after the moved queue.
      expect(await successor.kernel.mailboxNames(target.location)).toEqual(['/svc/moving']);
      await client.kernel.ukSend('/svc/moving', target.location, extra, 'after');
      const bodies = [];
      for (let index = 0; index < 5; index++) bodies.push(await successor.kernel.receive(target.location));
      expect(bodies.map((message) => [message.body, message.via, message.sender.process])).toEqual([
        [0, 'kernel', client.process],
        [1, 'kernel', client.process],
        [2, 'kernel', client.process],
        ['by channel', 'channel', client.process],
        ['after', 'kernel', client.process],
      ]);
    }));

  it('sends through a user-space channel and shoots it down when its capability is removed', () =>
    withMachine(kind, async (machine) => {
      const server = await processOn(machine, 1);
      const client = await processOn(machine, 2);
      const { location, capability } = await namedMailbox(server.kernel, '/svc/ring');
      expect(await codeOf(client.kernel.createChannel('/svc/ring', location, flipOneBit(capability)))).toBe(
        'PERMISSION_DENIED',
      );
      expect(await codeOf(client.kernel.createChannel('/svc/nope', location, capability))).toBe('NO_SUCH_NAME');
      const channelCapability = await server.kernel.addCapability(location);
      const channel = await client.kernel.createChannel('/svc/ring', location, channelCapability);
      expect(await codeOf(client.kernel.createChannel('/svc/ring', location, channelCapability))).toBe('NAME_EXISTS');
      for (let index = 0; index < 3; index++) await channel.send(index);
      await server.kernel.removeCapability(location, channelCapability);
      expect(await codeOf(channel.send(99))).toBe('PERMISSION_DENIED');
      expect(channel.closed).toBe(true);
      const received = [
        await server.kernel.receive(location),
        await server.kernel.receive(location),
        await server.kernel.receive(location),
      ];
      expect(
        received.map((message) => [message.body, message.via, message.destinationName, message.sender.process]),
      ).toEqual([
        [0, 'channel', '/svc/ring', client.process],
        [1, 'channel', '/svc/ring', client.process],
        [2, 'channel', '/svc/ring', client.process],
      ]);
      await sleep(server.clock, 5);
      expect(server.kernel.tryReceive(location)).toBeUndefined();
    }));

  it('keeps channel messages of every size whole and apart: byte arrays received share nothing, a move copies them out', () =>
    withMachine(kind, async (machine) => {
      const { owner, successor, client, location, capability } = await moveParties(machine, '/svc/sizes');
      const channel = await client.kernel.createChannel('/svc/sizes', location, capability);
      // Sizes around the on-heap limit (64 bytes) and the slab's largest piece (2 KiB), and beyond.
      const sizes = [1, 40, 64, 65, 100, 500, 2000, 2048, 3000, 20_000];
      const payload = (size: number, seed: number) =>
        Uint8Array.from({ length: size }, (_, index) => (index * 7 + seed) & 0xff);
      for (const [seed, size] of sizes.entries()) await channel.send({ seed, payload: payload(size, seed) });
      const first = [];
      for (let index = 0; index < 5; index++) first.push(await owner.kernel.receive(location));
      // Detaching one received byte array (a transfer) must leave every other message intact.
      const taken = (first[4]!.body as { payload: Uint8Array }).payload;
      structuredClone(taken.buffer, { transfer: [taken.buffer as ArrayBuffer] });
      for (const message of first.slice(0, 4)) {
        const { seed, payload: got } = message.body as { seed: number; payload: Uint8Array };
        expect(got).toEqual(payload(sizes[seed]!, seed));
      }
      // The rest move with the mailbox (still in the ring or already in the queue) and arrive whole.
      const target = await successor.kernel.createMailbox();
      expect((await owner.kernel.moveMailbox(location, target.location, target.capability)).messages).toBe(
        sizes.length - 5,
      );
      for (let seed = 5; seed < sizes.length; seed++) {
        const message = await successor.kernel.receive(target.location);
        expect(message.body).toEqual({ seed, payload: payload(sizes[seed]!, seed) });
      }
    }));

  it('holds channel messages in the ring while the queue is full and drains them as the owner takes messages', () =>
    withMachine(kind, async (machine) => {
      const server = await processOn(machine, 1);
      const client = await processOn(machine, 2);
      const mailbox = await server.kernel.createMailbox({ queueMessagesMax: 2 });
      await server.kernel.addName(mailbox.location, '/svc/narrow');
      const channel = await client.kernel.createChannel('/svc/narrow', mailbox.location, mailbox.capability);
      for (let index = 0; index < 20; index++) await channel.send(index);
      await sleep(server.clock, 5);
      // Two in the queue, the rest still in the ring; each message taken lets the next one in.
      expect(server.kernel.pendingMessages(mailbox.location)).toBe(2);
      const got: unknown[] = [];
      for (let index = 0; index < 10; index++) got.push(server.kernel.tryReceive(mailbox.location)?.body);
      expect(got).toEqual(Array.from({ length: 10 }, (_, index) => index));
      for (let index = 10; index < 20; index++) got.push((await server.kernel.receive(mailbox.location)).body);
      expect(got).toEqual(Array.from({ length: 20 }, (_, index) => index));
      expect(server.kernel.tryReceive(mailbox.location)).toBeUndefined();
    }));

  it("delivers a new channel's first message into an idle mailbox with nothing else happening", () =>
    withMachine(kind, async (machine) => {
      const server = await processOn(machine, 1);
      const client = await processOn(machine, 2);
      const { location, capability } = await namedMailbox(server.kernel, '/svc/idle-ring');
      // The reader sleeps from the start: the first write rings its doorbell (it once waited in the ring).
      const channel = await client.kernel.createChannel('/svc/idle-ring', location, capability);
      await channel.send('first');
      const message = await server.kernel.receive(location);
      expect([message.body, message.via]).toEqual(['first', 'channel']);
    }));

  it('shoots a channel down when its name is removed, and keeps one stream in order across path switches', () =>
    withMachine(kind, async (machine) => {
      const server = await processOn(machine, 3);
      const client = await processOn(machine, 0);
      const { location, capability } = await namedMailbox(server.kernel, '/svc/mixed');
      await server.kernel.addName(location, '/svc/mixed-alias');
      const channel = await client.kernel.createChannel('/svc/mixed-alias', location, capability);
      const sends: Array<Promise<unknown>> = [];
      let next = 0;
      for (let round = 0; round < 5; round++) {
        for (let index = 0; index < 3; index++)
          sends.push(client.kernel.ukSend('/svc/mixed', location, capability, next++));
        for (let index = 0; index < 3; index++) sends.push(channel.send(next++));
      }
      const received: number[] = [];
      while (received.length < next) {
        const message = server.kernel.tryReceive(location);
        if (message === undefined) await sleep(server.clock, 1);
        else received.push(message.body as number);
      }
      await Promise.all(sends);
      expect(received).toEqual(Array.from({ length: next }, (_, index) => index));
      await server.kernel.removeName(location, '/svc/mixed-alias');
      expect(await codeOf(channel.send(-1))).toBe('PERMISSION_DENIED');
      await client.kernel.ukSend('/svc/mixed', location, capability, 'still fine on the kernel path');
      expect((await server.kernel.receive(location)).body).toBe('still fine on the kernel path');
    }));

  it('crashes a process whose callback throws, alone; its mailboxes answer UNREACHABLE', () =>
    withMachine(kind, async (machine, crashes) => {
      const fragile = await processOn(machine, 1, 'fragile');
      const steady = await processOn(machine, 1, 'steady');
      const client = await processOn(machine, 2);
      const bad = await namedMailbox(fragile.kernel, '/svc/fragile');
      const good = await namedMailbox(steady.kernel, '/svc/steady');
      fragile.kernel.onReadable(bad.location, () => {
        throw new Error('handler bug');
      });
      await client.kernel.ukSend('/svc/fragile', bad.location, bad.capability, 'boom');
      const exit = await fragile.exited;
      expect(exit.crashed).toBe(true);
      expect(crashes.join('\n')).toMatch(/process fragile .* crashed: Error: handler bug/);
      expect(await codeOf(client.kernel.ukSend('/svc/fragile', bad.location, bad.capability, 'again'))).toBe(
        'UNREACHABLE',
      );
      expect(await codeOf(fragile.kernel.createMailbox())).toBe('SHUTDOWN');
      await client.kernel.ukSend('/svc/steady', good.location, good.capability, 'still here');
      expect((await steady.kernel.receive(good.location)).body).toBe('still here');
    }));

  it('spawns from a module and an exported entry, copying args and result; a throwing entry crashes alone', () =>
    withMachine(kind, async (machine) => {
      const module = new URL('./fixtures/echo-process.ts', import.meta.url);
      const server = await machine.spawn({ core: 1, module, entry: 'echoServer', args: { name: '/svc/echo' } });
      const { location, capability } = server.result as unknown as {
        location: MailboxLocation;
        capability: Capability;
      };
      const client = await processOn(machine, 2);
      const reply = await namedMailbox(client.kernel, '/client/reply');
      await client.kernel.ukSend('/svc/echo', location, capability, {
        replyName: '/client/reply',
        replyLocation: reply.location as never,
        replyCapability: reply.capability,
        payload: 'ping',
      });
      expect((await client.kernel.receive(reply.location)).body).toEqual({ echo: 'ping', from: client.process });
      expect(await codeOf(machine.spawn({ core: 1, module, entry: 'throwsAtOnce' }))).toBe('UNREACHABLE');
      expect(await codeOf(machine.spawn({ core: 1, module, entry: 'missing' }))).toBe('BAD_REQUEST');
      expect(await codeOf(machine.spawn({ core: 9, function: () => 1 }))).toBe('BAD_REQUEST');
      expect(await codeOf(machine.spawn({ core: 1, function: () => () => 1 }))).toBe('BAD_REQUEST');
      expect(await codeOf(machine.spawn({ core: 1, function: () => 1, args: { f: Symbol('x') } as never }))).toBe(
        'BAD_REQUEST',
      );
      const copied = await machine.spawn({ core: 0, function: (_context, args) => args, args: { list: [1, 2] } });
      expect(copied.result).toEqual({ list: [1, 2] });
      server.kill();
      expect((await server.exited).crashed).toBe(false);
      expect(await codeOf(client.kernel.ukSend('/svc/echo', location, capability, 'gone'))).toBe('UNREACHABLE');
    }));

  it('enforces its limits with LIMIT_EXCEEDED', () =>
    withMachine(
      kind,
      async (machine) => {
        const owner = await processOn(machine, 0);
        expect(await codeOf(owner.kernel.createMailbox({ queueMessagesMax: 0 }))).toBe('BAD_REQUEST');
        const first = await owner.kernel.createMailbox();
        await owner.kernel.createMailbox();
        expect(await codeOf(owner.kernel.createMailbox())).toBe('LIMIT_EXCEEDED');
        await owner.kernel.addName(first.location, '/a');
        await owner.kernel.addName(first.location, '/b');
        expect(await codeOf(owner.kernel.addName(first.location, '/c'))).toBe('LIMIT_EXCEEDED');
        await owner.kernel.addCapability(first.location);
        expect(await codeOf(owner.kernel.addCapability(first.location))).toBe('LIMIT_EXCEEDED');
      },
      { limits: { mailboxesPerProcessMax: 2, namesPerMailboxMax: 2, capabilitiesPerMailboxMax: 2 } },
    ));

  it('fails a waiting receive when its mailbox is destroyed', () =>
    withMachine(kind, async (machine) => {
      const owner = await processOn(machine, 1);
      const { location } = await owner.kernel.createMailbox();
      const waiting = codeOf(owner.kernel.receive(location));
      await owner.kernel.destroyMailbox(location);
      expect(await waiting).toBe('UNREACHABLE');
    }));

  it('never runs a readable callback while its previous run is still going', () =>
    withMachine(kind, async (machine) => {
      const server = await processOn(machine, 1);
      const client = await processOn(machine, 2);
      const { location, capability } = await namedMailbox(server.kernel, '/svc/serial');
      let active = 0;
      let overlapped = false;
      const handled: number[] = [];
      server.kernel.onReadable(location, async () => {
        active++;
        overlapped ||= active > 1;
        const message = server.kernel.tryReceive(location);
        await sleep(server.clock, 2);
        if (message !== undefined) handled.push(message.body as number);
        active--;
      });
      for (let index = 0; index < 5; index++) await client.kernel.ukSend('/svc/serial', location, capability, index);
      while (handled.length < 5) await sleep(client.clock, 5);
      expect(handled).toEqual([0, 1, 2, 3, 4]);
      expect(overlapped).toBe(false);
    }));

  it('shuts down cleanly: later calls answer SHUTDOWN', async () => {
    const { machine } = testMachine(kind);
    const process = await processOn(machine, 1);
    const { location } = await process.kernel.createMailbox();
    const pending = codeOf(process.kernel.receive(location));
    await machine.shutdown();
    expect(await pending).toBe('SHUTDOWN');
    expect(await codeOf(process.kernel.createMailbox())).toBe('SHUTDOWN');
    expect(await codeOf(machine.spawn({ core: 0, function: () => 1 }))).toBe('SHUTDOWN');
  });
});
