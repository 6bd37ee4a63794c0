// WorkerFabric: each core's kernel on its own worker thread. The hosts run the package's built
// dist/worker-host.js (the test task builds the package first) and processes come from a plain
// JavaScript fixture module.
import { describe, expect, it } from 'vitest';
import type { MessageBody } from '@fos/base';
import { codeOf } from '@fos/base/testing';
import { Machine } from './machine.js';
import { workerCoresMax, WorkerFabric } from './worker-fabric.js';

const processes = new URL('./fixtures/worker-processes.mjs', import.meta.url);

async function withWorkers<T>(cores: number, body: (machine: Machine, log: string[]) => Promise<T>): Promise<T> {
  const log: string[] = [];
  const machine = new Machine({ fabric: new WorkerFabric({ cores }), log: (line) => log.push(line) });
  try {
    return await body(machine, log);
  } finally {
    await machine.shutdown();
  }
}

describe('WorkerFabric', () => {
  it('runs each core on its own thread: a client on core 2 calls an echo server on core 1 through the kernels', async () => {
    await withWorkers(3, async (machine) => {
      const server = await machine.spawn({
        core: 1,
        module: processes,
        entry: 'echoServer',
        args: { name: '/svc/echo' },
      });
      expect(server.core).toBe(1);
      expect(server.result).toMatchObject({ core: 1 });
      const { location, capability } = server.result as { location: MessageBody; capability: MessageBody };
      const bytes = new Uint8Array(1000).fill(7);
      const client = await machine.spawn({
        core: 2,
        module: processes,
        entry: 'client',
        args: { name: '/svc/echo', location, capability, count: 50, bytes },
      });
      const { answers, core } = client.result as {
        answers: Array<{ echo: { index: number; bytes: Uint8Array }; core: number; from: string }>;
        core: number;
      };
      expect(core).toBe(2);
      expect(answers.map((answer) => answer.echo.index)).toEqual(Array.from({ length: 50 }, (_, index) => index));
      expect(
        answers.every(
          (answer) =>
            answer.core === 1 &&
            answer.from === client.process &&
            answer.echo.bytes.length === 1000 &&
            answer.echo.bytes[999] === 7,
        ),
      ).toBe(true);
      const stats = machine.stats();
      expect(stats.cores).toBe(3);
      expect(stats.delivered).toBeGreaterThanOrEqual(100);
      expect(stats.mailboxes).toBe(2);
    });
  });

  it('checks names and capabilities at the owning kernel across threads', async () => {
    await withWorkers(2, async (machine) => {
      const server = await machine.spawn({
        core: 0,
        module: processes,
        entry: 'echoServer',
        args: { name: '/svc/checked' },
      });
      const { location, capability } = server.result as { location: MessageBody; capability: string };
      const forged = `${capability.slice(0, -2)}${capability.endsWith('AA') ? 'BB' : 'AA'}`;
      const send = (name: string, cap: string) =>
        machine
          .spawn({
            core: 1,
            module: processes,
            entry: 'sendOnce',
            args: { name, location, capability: cap, body: 'x' },
          })
          .then((handle) => handle.result);
      expect(await send('/svc/wrong', capability)).toBe('NO_SUCH_NAME');
      expect(await send('/svc/checked', forged)).toBe('PERMISSION_DENIED');
    });
  });

  it('copies args and results whole (bigint, Date, Uint8Array) and names processes by machine and core', async () => {
    await withWorkers(2, async (machine) => {
      const args = {
        big: 2n ** 60n,
        when: new Date(86_400_000),
        bytes: new Uint8Array([1, 2, 3]),
        nested: [{ a: null }],
      };
      const handle = await machine.spawn({ core: 1, module: processes, entry: 'mirror', args, name: 'mirror-1' });
      expect(handle.name).toBe('mirror-1');
      expect(handle.result).toEqual({ args, process: handle.process, core: 1, machine: 'm0' });
      expect(handle.process.startsWith('m0.1.')).toBe(true);
    });
  });

  it('refuses plain functions, missing modules and entries, and reports an entry that throws', async () => {
    await withWorkers(2, async (machine, log) => {
      expect(await codeOf(machine.spawn({ core: 0, function: () => 'no' }))).toBe('BAD_REQUEST');
      expect(await codeOf(machine.spawn({ core: 0, module: processes, entry: 'noSuchEntry' }))).toBe('BAD_REQUEST');
      expect(await codeOf(machine.spawn({ core: 0, module: new URL('./fixtures/missing.mjs', import.meta.url) }))).toBe(
        'BAD_REQUEST',
      );
      expect(await codeOf(machine.spawn({ core: 1, module: processes, entry: 'throwsAtOnce' }))).toBe('UNREACHABLE');
      expect(log.some((line) => line.includes('entry failed on purpose'))).toBe(true);
      // The core goes on.
      expect((await machine.spawn({ core: 1, module: processes, entry: 'mirror', args: 1 })).result).toMatchObject({
        args: 1,
      });
    });
  });

  it('keeps a core alive after a stray rejection in a process, and reports it', async () => {
    await withWorkers(1, async (machine, log) => {
      expect((await machine.spawn({ core: 0, module: processes, entry: 'strayRejection' })).result).toBe('alive');
      await expect.poll(() => log.some((line) => line.includes('stray rejection on purpose'))).toBe(true);
      expect(
        (await machine.spawn({ core: 0, module: processes, entry: 'mirror', args: 'still here' })).result,
      ).toMatchObject({ args: 'still here' });
    });
  });

  it('kills a process, reports its exit, and counts it out', async () => {
    await withWorkers(2, async (machine) => {
      const handle = await machine.spawn({ core: 1, module: processes, entry: 'idle' });
      await expect.poll(() => machine.stats().processes).toBe(1);
      handle.kill();
      expect(await handle.exited).toEqual({ process: handle.process, crashed: false });
      await expect.poll(() => machine.stats().processes).toBe(0);
    });
  });

  it('ends every process and thread at shutdown; spawns after it are refused', async () => {
    const machine = new Machine({ fabric: new WorkerFabric({ cores: 4 }), log: () => undefined });
    const handles = await Promise.all(
      [0, 1, 2, 3].map((core) => machine.spawn({ core, module: processes, entry: 'idle' })),
    );
    await machine.shutdown();
    await machine.shutdown();
    for (const handle of handles) expect((await handle.exited).crashed).toBe(false);
    expect(await codeOf(machine.spawn({ core: 0, module: processes, entry: 'idle' }))).toBe('SHUTDOWN');
  });

  it('carries a stream over user-space channels between threads, whole and in order', async () => {
    await withWorkers(2, async (machine) => {
      const server = await machine.spawn({
        core: 0,
        module: processes,
        entry: 'channelEchoServer',
        args: { name: '/svc/ring-echo' },
      });
      const { location, capability } = server.result as { location: MessageBody; capability: MessageBody };
      const client = await machine.spawn({
        core: 1,
        module: processes,
        entry: 'channelClient',
        args: {
          name: '/svc/ring-echo',
          location,
          capability,
          count: 5000,
          window: 32,
          bytes: new Uint8Array(200).fill(9),
        },
      });
      // Requests and answers both travelled by ring (the kernel marks each message's path).
      expect(client.result).toMatchObject({ received: 5000, inOrder: true, vias: ['channel/channel'] });
    });
  });

  it('shoots a channel between threads down when its capability is removed: what came before arrives, nothing after', async () => {
    await withWorkers(2, async (machine) => {
      const server = await machine.spawn({
        core: 0,
        module: processes,
        entry: 'revocableServer',
        args: { name: '/svc/revocable' },
      });
      const client = await machine.spawn({
        core: 1,
        module: processes,
        entry: 'revokedChannelClient',
        args: { name: '/svc/revocable', ...(server.result as Record<string, MessageBody>) },
      });
      expect(client.result).toEqual({
        revoked: 'revoked',
        after: 'PERMISSION_DENIED',
        closed: true,
        seen: [
          [0, 'channel'],
          [1, 'channel'],
          [2, 'channel'],
        ],
      });
    });
  });

  it('sleeps when idle: after ring traffic, a second of quiet costs the threads less than a quarter of a core', async () => {
    await withWorkers(4, async (machine) => {
      const server = await machine.spawn({
        core: 0,
        module: processes,
        entry: 'channelEchoServer',
        args: { name: '/svc/quiet' },
      });
      const { location, capability } = server.result as { location: MessageBody; capability: MessageBody };
      await machine.spawn({
        core: 1,
        module: processes,
        entry: 'channelClient',
        args: { name: '/svc/quiet', location, capability, count: 2000, window: 4, bytes: null },
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const before = process.cpuUsage();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const used = process.cpuUsage(before);
      // One core that spun instead of sleeping would cost a whole core; the margin is for the test
      // runner's own work and a busy machine (runs on a quiet machine stay under 0.05).
      expect((used.user + used.system) / 1_000_000).toBeLessThan(0.25);
    });
  });

  it('reports a core whose thread dies: its processes crashed, its mailboxes UNREACHABLE, the other cores go on', async () => {
    await withWorkers(3, async (machine) => {
      const server = await machine.spawn({
        core: 1,
        module: processes,
        entry: 'echoServer',
        args: { name: '/svc/doomed' },
      });
      const { location, capability } = server.result as { location: MessageBody; capability: MessageBody };
      const bystander = await machine.spawn({ core: 1, module: processes, entry: 'idle' });
      const sendFrom0 = async () =>
        (
          await machine.spawn({
            core: 0,
            module: processes,
            entry: 'sendOnce',
            args: { name: '/svc/doomed', location, capability, body: 'x' },
          })
        ).result;
      expect(await sendFrom0()).toBe('ok');
      expect((await machine.spawn({ core: 1, module: processes, entry: 'endThread' })).result).toBe('ending');
      expect((await bystander.exited).crashed).toBe(true);
      await expect.poll(sendFrom0).toBe('UNREACHABLE');
      expect(await codeOf(machine.spawn({ core: 1, module: processes, entry: 'idle' }))).toBe('UNREACHABLE');
      const other = await machine.spawn({
        core: 0,
        module: processes,
        entry: 'echoServer',
        args: { name: '/svc/alive' },
      });
      const alive = other.result as { location: MessageBody; capability: MessageBody };
      const client = await machine.spawn({
        core: 2,
        module: processes,
        entry: 'client',
        args: { name: '/svc/alive', location: alive.location, capability: alive.capability, count: 3, bytes: null },
      });
      expect((client.result as { answers: unknown[] }).answers).toHaveLength(3);
    });
  });

  it("answers PERMISSION_DENIED for another process's mailbox on its own core and on another core alike", async () => {
    await withWorkers(2, async (machine) => {
      const owner = await machine.spawn({
        core: 0,
        module: processes,
        entry: 'echoServer',
        args: { name: '/svc/owned' },
      });
      const { location, capability } = owner.result as { location: MessageBody; capability: MessageBody };
      for (const core of [0, 1]) {
        const probe = await machine.spawn({
          core,
          module: processes,
          entry: 'probeOwnership',
          args: { location, capability, name: '/svc/owned' },
        });
        const { owned, missing } = probe.result as { owned: Record<string, string>; missing: Record<string, string> };
        expect({ core, others: Object.entries(owned).filter(([, code]) => code !== 'PERMISSION_DENIED') }).toEqual({
          core,
          others: [],
        });
        expect(missing).toEqual({ core: 'UNREACHABLE', machine: 'UNREACHABLE' });
      }
    });
  });

  it('refuses hostile values on the raw send path and on a channel across threads, and the stream goes on', async () => {
    await withWorkers(2, async (machine) => {
      const server = await machine.spawn({
        core: 0,
        module: processes,
        entry: 'revocableServer',
        args: { name: '/svc/target' },
      });
      const { location, capability } = server.result as { location: MessageBody; capability: MessageBody };
      const sender = await machine.spawn({
        core: 1,
        module: processes,
        entry: 'hostileSends',
        args: { name: '/svc/target', location, capability },
      });
      expect(sender.result).toEqual({
        codes: {
          getterBody: 'BAD_REQUEST',
          proxyBody: 'BAD_REQUEST',
          proxyLocation: 'BAD_REQUEST',
          bigintLocation: 'BAD_REQUEST',
          cyclicLocation: 'BAD_REQUEST',
          symbolName: 'INVALID_NAME',
          nullOptions: 'BAD_REQUEST',
          twinCapability: 'PERMISSION_DENIED',
          channelGetterBody: 'BAD_REQUEST',
          channelProxyBody: 'BAD_REQUEST',
        },
        good: 'ok',
        goodOnChannel: 'ok',
      });
    });
  });

  it('bounds its cores and serves one machine', () => {
    expect(() => new WorkerFabric({ cores: workerCoresMax + 1 })).toThrow(/workerCoresMax/);
    expect(() => new WorkerFabric({ cores: 0 })).toThrow(/workerCoresMax/);
    const fabric = new WorkerFabric({ cores: 1 });
    expect(() => fabric.connect(0, () => undefined)).toThrow(/worker thread/);
  });
});
