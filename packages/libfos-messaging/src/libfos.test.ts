import type { Capability } from '@fos/microkernel';
import { FosError } from '@fos/base';
import { codeOf, codeOfCall } from '@fos/base/testing';
import { defineRpcService, methodOrdinal, rpcHandler } from '@fos/dispatcher';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLibfos, withLibfos } from './create.js';
import { libfosProcess, toyMachine } from './internal/testing.js';

const anyCapability = 'AAAAAAAAAAAAAAAAAAAAAA' as Capability;

/** Two members `/sys/fs/1` (core 1) and `/sys/fs/2` (core 2) under `/sys/fs`, recording `fsN:body`. */
async function fsFleet(machine: Awaited<ReturnType<typeof toyMachine>>['machine']) {
  const received: string[] = [];
  const members = [];
  for (const index of [1, 2]) {
    const member = await libfosProcess(machine, index, `fs${index}`);
    const mailbox = await member.createMailbox();
    member.serve(mailbox.location, {
      handler: (request) => void received.push(`fs${index}:${JSON.stringify(request.body)}`),
    });
    await member.aliasRegisterDirect(`/sys/fs/${index}`, mailbox, anyCapability);
    await member.aliasRegisterIndirect('/sys/fs', `/sys/fs/${index}`, anyCapability);
    members.push(member);
  }
  return { received, members };
}

describe.each(['local', 'sim'] as const)('libfos on %s fabric', (kind) => {
  it('lets a fresh process with an empty cache send its first request and get its reply', async () => {
    const { machine, names } = await toyMachine(kind);
    try {
      const server = await libfosProcess(machine, 1, 'server');
      const mailbox = await server.createMailbox();
      server.serve(mailbox.location, { handler: (request) => ({ echo: request.body, from: request.sender.process }) });
      await server.aliasRegisterDirect('/svc/echo', mailbox, anyCapability);
      const client = await libfosProcess(machine, 2, 'client');
      expect(client.cache.stats().entries).toBe(0);
      const { body } = await client.call('/svc/echo', 'hello');
      // One miss for the one uncached name: the synchronous cache walk and the Lookup after it count it once.
      expect(client.cache.stats()).toMatchObject({ misses: 1, hits: 0 });
      expect(body).toEqual({ echo: 'hello', from: client.context.process });
      // The first reply of the name service reached a nameless mailbox; then libfos took a canonical alias.
      expect(client.dispatcher.replyAddress.name).toMatch(/^\/tmp\/toy\d+$/);
      expect(await client.context.kernel.mailboxNames(client.dispatcher.replyAddress.location)).toEqual([
        client.dispatcher.replyAddress.name,
      ]);
      expect(await client.getCanonicalAlias()).toBe(client.dispatcher.replyAddress.name);
      // The cache now answers: a second call needs no Lookup.
      const lookups = names.lookups;
      await client.call('/svc/echo', 'again');
      expect(names.lookups).toBe(lookups);
      expect(client.cache.stats()).toMatchObject({ misses: 1, hits: 1 });
    } finally {
      await machine.shutdown();
    }
  });

  it("checks an entry's args against the schema given to withLibfos, before its libfos is made", async () => {
    const { machine } = await toyMachine(kind);
    try {
      let made = 0;
      const entry = withLibfos(
        async (libfos, args) => {
          made++;
          await libfos.close();
          libfos.context.exit();
          return { doubled: args.n * 2 };
        },
        { args: z.strictObject({ n: z.number().int() }) },
      );
      expect((await machine.spawn({ core: 1, function: entry, args: { n: 21 } })).result).toEqual({ doubled: 42 });
      const mailboxes = machine.stats().mailboxes;
      // The entry refuses them with BAD_REQUEST: the process ends, and its spawn says why (UNREACHABLE).
      for (const bad of [{ n: 'x' }, { n: 1.5 }, { n: 1, extra: true }, null, 'n'])
        await expect(machine.spawn({ core: 1, function: entry, args: bad })).rejects.toThrow(
          /^UNREACHABLE: .*BAD_REQUEST: withLibfos: the args .* is malformed/,
        );
      // Refused before anything was made: no libfos, no reply mailbox.
      expect(made).toBe(1);
      expect(machine.stats().mailboxes).toBe(mailboxes);
    } finally {
      await machine.shutdown();
    }
  });

  it('gives a generated client a transport that calls a service by its name (rpcTransport)', async () => {
    const { machine } = await toyMachine(kind);
    try {
      const add = methodOrdinal('Adder', 'add');
      const impl = { add: async (a: number, b: number) => a + b };
      const service = defineRpcService('Adder', impl, [
        {
          name: 'add',
          ordinal: add,
          args: z.object({ a: z.number(), b: z.number() }),
          invoke: (target, args) => target.add(args.a as number, args.b as number),
        },
      ]);
      const servers = [];
      for (const core of [1, 2]) {
        const server = await libfosProcess(machine, core, `adder${core}`);
        const mailbox = await server.createMailbox();
        server.serve(mailbox.location, { handler: rpcHandler(service) });
        servers.push({ server, mailbox });
      }
      await servers[0]!.server.aliasRegisterDirect('/svc/adder', servers[0]!.mailbox, anyCapability);
      const client = await libfosProcess(machine, 3, 'client');
      const transport = client.rpcTransport('/svc/adder', { timeoutMs: 10_000 });
      expect(await transport.invoke(add, 'Adder.add', { a: 2, b: 3 })).toBe(5);
      // The service checks what it is sent; its refusal comes back with its code.
      expect(await codeOf(transport.invoke(add, 'Adder.add', { a: 'two', b: 3 }))).toBe('BAD_REQUEST');
      // The name moves to the other server: the cached entry is refused, refreshed, and the call goes there.
      await servers[0]!.server.unregisterDirect('/svc/adder', servers[0]!.mailbox.location, anyCapability);
      await servers[1]!.server.aliasRegisterDirect('/svc/adder', servers[1]!.mailbox, anyCapability);
      expect(await transport.invoke(add, 'Adder.add', { a: 4, b: 5 })).toBe(9);
      // A bad name or bad options are refused when the transport is made, not at its first call.
      expect(codeOfCall(() => client.rpcTransport('svc/adder'))).toBe('INVALID_NAME');
      expect(codeOfCall(() => client.rpcTransport('/svc/adder', { deadline: 'soon' as 'none' }))).toBe('BAD_REQUEST');
    } finally {
      await machine.shutdown();
    }
  });

  it('recovers from a stale cache: refused by the kernel, refreshed, delivered to the remaining member (§4.2.4)', async () => {
    const { machine } = await toyMachine(kind);
    try {
      const { received, members } = await fsFleet(machine);
      const client = await libfosProcess(machine, 3, 'client');
      await client.send('/sys/fs', 'first');
      expect((await client.aliasResolve('/sys/fs')).chain).toEqual(['/sys/fs', '/sys/fs/2']);
      // /sys/fs/2 leaves the fleet but keeps its own name; the client's cache still says /sys/fs → /sys/fs/2.
      await members[1]!.unregisterIndirect('/sys/fs', '/sys/fs/2', anyCapability);
      await client.send('/sys/fs', 'second');
      await client.send('/sys/fs/2', 'direct still works');
      await client.dispatcher.spawnThread('settle', (thread) => thread.sleep(5));
      expect(received).toEqual(['fs2:"first"', 'fs1:"second"', 'fs2:"direct still works"']);
      expect(client.stats().refreshes).toBe(1);
      expect(client.cache.stats().invalidations).toBeGreaterThanOrEqual(1);
    } finally {
      await machine.shutdown();
    }
  });

  it('fails clearly: no capability published, no such name, a cycle, an inactive name that stays inactive', async () => {
    const { machine, names } = await toyMachine(kind);
    try {
      const server = await libfosProcess(machine, 1, 'server');
      const hidden = await server.createMailbox();
      await server.aliasRegisterDirect('/svc/hidden', hidden, anyCapability, { publish: false });
      const client = await libfosProcess(machine, 2, 'client');
      expect(await codeOf(client.send('/svc/hidden', 'x'))).toBe('PERMISSION_DENIED');
      expect(await codeOf(client.send('/svc/nobody', 'x'))).toBe('NO_SUCH_NAME');
      expect(await codeOf(client.send('not a name', 'x'))).toBe('INVALID_NAME');
      names.table.set('/loop/a', { type: 'indirect', destinations: ['/loop/b'] });
      names.table.set('/loop/b', { type: 'indirect', destinations: ['/loop/a'] });
      expect(await codeOf(client.aliasResolve('/loop/a'))).toBe('CYCLE');
      const sleepy = await server.createMailbox();
      await server.aliasRegisterDirect('/svc/sleepy', sleepy, anyCapability, { active: false });
      const started = client.context.clock.now();
      expect(await codeOf(client.send('/svc/sleepy', 'x'))).toBe('TIMEOUT');
      expect(client.context.clock.now() - started).toBeGreaterThanOrEqual(5_000);
      expect(client.stats().inactiveWaits).toBeGreaterThan(3);
    } finally {
      await machine.shutdown();
    }
  }, 20_000);

  it('waits out an inactive name and delivers once it is active again', async () => {
    const { machine, names } = await toyMachine(kind);
    try {
      const server = await libfosProcess(machine, 1, 'server');
      const mailbox = await server.createMailbox();
      const got: unknown[] = [];
      server.serve(mailbox.location, { handler: (request) => void got.push(request.body) });
      await server.aliasRegisterDirect('/svc/moving', mailbox, anyCapability, { active: false });
      const client = await libfosProcess(machine, 2, 'client');
      const sending = client.send('/svc/moving', 'patient');
      // Activate only once the client has met the inactive name (a fixed sleep raced a busy machine).
      await server.dispatcher.spawnThread('migrate', async (thread) => {
        for (let waits = 0; client.stats().inactiveWaits === 0; waits++) {
          expect(waits).toBeLessThan(10_000);
          await thread.sleep(1);
        }
      });
      const entry = names.table.get('/svc/moving');
      if (entry?.type === 'direct') entry.active = true;
      await sending;
      await client.dispatcher.spawnThread('settle', (thread) => thread.sleep(5));
      expect(got).toEqual(['patient']);
      expect(client.stats().inactiveWaits).toBeGreaterThan(0);
    } finally {
      await machine.shutdown();
    }
  });

  it('moves a busy stream onto a user-space channel, in order, and recovers when the channel is shot down', async () => {
    const { machine } = await toyMachine(kind);
    try {
      const { received, members } = await fsFleet(machine);
      const client = await libfosProcess(machine, 3, 'client');
      for (let index = 0; index < 20; index++) await client.send('/sys/fs', index);
      // After channelAfterSends sends the stream moved to a ring (opened in the background).
      await Promise.all(Array.from({ length: 20 }, (_, index) => client.send('/sys/fs', 20 + index)));
      expect(client.stats().channels.opened).toBe(1);
      expect(client.stats().channels.channelSends).toBeGreaterThan(0);
      // /sys/fs/2 leaves the fleet: its mailbox no longer accepts /sys/fs, which shoots the channel down.
      await members[1]!.unregisterIndirect('/sys/fs', '/sys/fs/2', anyCapability);
      await client.send('/sys/fs', 'after');
      await client.dispatcher.spawnThread('settle', (thread) => thread.sleep(5));
      expect(received).toEqual([...Array.from({ length: 40 }, (_, index) => `fs2:${index}`), 'fs1:"after"']);
      expect(client.stats().refreshes).toBe(1);
      await client.close();
    } finally {
      await machine.shutdown();
    }
  });

  it('sends its name-service requests through a channel once it has a canonical alias, and never before', async () => {
    const { machine, names } = await toyMachine(kind);
    try {
      const server = await libfosProcess(machine, 1, 'server');
      const mailbox = await server.createMailbox();
      await server.aliasRegisterDirect('/svc/looked-up', mailbox, anyCapability);
      const nameless = await libfosProcess(machine, 2, 'nameless');
      for (let index = 0; index < 20; index++) await nameless.run(() => nameless.nameService.lookup('/svc/looked-up'));
      // Its replies need the name server's unchecked reply, which only a kernel-path delivery grants.
      expect(nameless.stats().channels.opened).toBe(0);
      expect(nameless.dispatcher.replyAddress.name).toBeNull();
      const named = await libfosProcess(machine, 3, 'named');
      await named.getCanonicalAlias();
      const lookups = names.lookups;
      for (let index = 0; index < 30; index++)
        expect((await named.run(() => named.nameService.lookup('/svc/looked-up'))).type).toBe('direct');
      expect(names.lookups - lookups).toBe(30);
      expect(named.stats().channels.opened).toBe(1);
      expect(named.stats().channels.channelSends).toBeGreaterThan(0);
    } finally {
      await machine.shutdown();
    }
  });

  it('tries another name server when one refuses a request it never touched, and says UNREACHABLE when none takes it', async () => {
    const { machine, names } = await toyMachine(kind);
    try {
      const server = await libfosProcess(machine, 2, 'server');
      await server.aliasRegisterDirect('/svc/here', await server.createMailbox(), anyCapability);
      // A member that has left its store but is still registered: it answers SHUTDOWN (with the unchecked
      // reply a name server may send a nameless client), and the kernel of its core names it first (a
      // local name server is preferred).
      let refusals = 0;
      let unregisterAfter = Number.POSITIVE_INFINITY;
      await machine.spawn({
        core: 1,
        name: 'leaving',
        function: async (context) => {
          const libfos = await createLibfos(context, { kernelCapability: machine.kernelCapability });
          const mailbox = await context.kernel.createMailbox();
          const kernel = context.kernel;
          await kernel.ukNameServiceRegister(mailbox.location, machine.kernelCapability, mailbox.capability);
          libfos.serve(mailbox.location, {
            handler: () => {
              refusals++;
              // Its unregistration travels while the client waits for it (the stale-registry window).
              if (refusals === unregisterAfter)
                void kernel.ukNameServiceUnregister(mailbox.location, machine.kernelCapability);
              throw new FosError('SHUTDOWN', 'this member has left its store');
            },
          });
        },
      });
      const client = await libfosProcess(machine, 1, 'client');
      // Only the leaving member is named on core 1 while it stays registered: every attempt is refused.
      const refused = await client.run(() => client.nameService.lookup('/svc/here')).catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: 'UNREACHABLE' });
      expect(String(refused)).toMatch(/nameServerAttemptsMax \(4\) attempts; the last refusal: .*left its store/);
      expect(refusals).toBe(1);
      // Once it unregisters (after refusing again), the client's next try finds the other member.
      unregisterAfter = 2;
      const lookups = names.lookups;
      expect((await client.run(() => client.nameService.lookup('/svc/here'))).type).toBe('direct');
      expect(refusals).toBe(2);
      expect(names.lookups - lookups).toBe(1);
    } finally {
      await machine.shutdown();
    }
  });

  it('keeps pipelined sends in order through full-queue refusals and re-sends', async () => {
    const { machine } = await toyMachine(kind);
    try {
      const server = await libfosProcess(machine, 1, 'server');
      const mailbox = await server.createMailbox({ queueMessagesMax: 2 });
      const got: number[] = [];
      server.serve(mailbox.location, {
        liveThreadsMax: 1,
        handler: async (request, thread) => {
          await thread.sleep(1);
          got.push(request.body as number);
        },
      });
      await server.aliasRegisterDirect('/svc/slow', mailbox, anyCapability);
      const client = await libfosProcess(machine, 2, 'client');
      await client.send('/svc/slow', 0);
      await Promise.all(Array.from({ length: 30 }, (_, index) => client.send('/svc/slow', index + 1)));
      await client.dispatcher.spawnThread('settle', async (thread) => {
        while (got.length < 31) await thread.sleep(5);
      });
      expect(got).toEqual(Array.from({ length: 31 }, (_, index) => index));
      expect(client.stats().send.wouldBlock).toBeGreaterThan(0);
    } finally {
      await machine.shutdown();
    }
  });
});
