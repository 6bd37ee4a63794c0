import { FosError, hasFosErrorCode, isFosError, type MessageBody } from '@fos/base';
import { codeOf } from '@fos/base/testing';
import { describe, expect, it } from 'vitest';
import { dispatcherProcess, testMachine, type DispatcherProcess, type TestFabricKind } from './internal/testing.js';
import type { Machine, SimFabric } from '@fos/microkernel';

async function withMachine(
  kind: TestFabricKind,
  run: (machine: Machine, crashes: string[]) => Promise<void>,
  seed = 1,
): Promise<void> {
  const { machine, crashes } = testMachine(kind, seed);
  try {
    await run(machine, crashes);
  } finally {
    await machine.shutdown();
  }
}

describe.each(['local', 'sim'] as const)('dispatcher on %s fabric', (kind) => {
  it('runs code outside every thread on request (outsideThreads), synchronously', () =>
    withMachine(kind, async (machine) => {
      const client = await dispatcherProcess(machine, 2, 'client');
      const seen = await client.dispatcher.spawnThread('main', async (thread) => {
        const inside = client.dispatcher.currentThread === thread;
        let ranAt = 'later';
        const outside = client.dispatcher.outsideThreads(() => {
          ranAt = 'now';
          return client.dispatcher.currentThread;
        });
        return { inside, outside, ranAt, after: client.dispatcher.currentThread === thread };
      });
      expect(seen).toEqual({ inside: true, outside: undefined, ranAt: 'now', after: true });
    }));

  it('runs each request in its own thread and answers the caller', () =>
    withMachine(kind, async (machine) => {
      const server = await dispatcherProcess(machine, 1, 'server');
      const echo = await server.serve('/svc/echo', {
        handler: (request, thread) => ({
          echoed: request.body,
          from: request.sender.process,
          same: thread.request === request,
        }),
      });
      const client = await dispatcherProcess(machine, 2, 'client');
      const answer = await client.dispatcher.spawnThread(
        'main',
        async (thread) => (await thread.call(echo, 'hello')).body,
      );
      expect(answer).toEqual({ echoed: 'hello', from: client.context.process, same: true });
      expect(await client.dispatcher.spawnThread('no request', async (thread) => thread.request)).toBeUndefined();
      // The server's thread ends once the kernel has accepted its answer, which may come after the caller has it.
      await until(client, () => server.dispatcher.stats().threadsLive === 0);
      expect(server.dispatcher.stats()).toMatchObject({ requestsHandled: 1, threadsLive: 0 });
    }));

  it('answers a FosError thrown by a handler as that error; a one-way send reaches a handler that answers nothing', () =>
    withMachine(kind, async (machine) => {
      const server = await dispatcherProcess(machine, 1, 'server');
      const seen: MessageBody[] = [];
      const service = await server.serve('/svc/picky', {
        handler: (request) => {
          if (!request.expectsReply) {
            seen.push(request.body);
            return;
          }
          throw new FosError('NO_SUCH_NAME', `no entry for ${JSON.stringify(request.body)}`);
        },
      });
      const client = await dispatcherProcess(machine, 2, 'client');
      const failure = await client.dispatcher.spawnThread('main', async (thread) => {
        await thread.send(service, 'one-way');
        return thread.call(service, 'x').catch((error: unknown) => error);
      });
      expect(hasFosErrorCode(failure, 'NO_SUCH_NAME') && failure.message).toBe('NO_SUCH_NAME: no entry for "x"');
      await server.dispatcher.whenIdle();
      expect(seen).toEqual(['one-way']);
    }));

  it('drops and counts malformed envelopes, on served and reply mailboxes alike', () =>
    withMachine(kind, async (machine) => {
      const server = await dispatcherProcess(machine, 1, 'server');
      const handled: unknown[] = [];
      const service = await server.serve('/svc/strict', { handler: (request) => void handled.push(request.body) });
      const client = await dispatcherProcess(machine, 2, 'client');
      const garbage = [
        { fos: 'request', token: -1, replyTo: client.dispatcher.replyAddress, budget: 5, body: 1 },
        { fos: 'request', token: 1, body: 2 },
        { nothing: true },
        'plain text',
        { fos: 'message' },
      ];
      for (const body of garbage)
        await client.context.kernel.ukSend(service.name!, service.location, service.capability, body);
      const reply = server.dispatcher.replyAddress;
      await client.context.kernel.ukSend('/test/server/reply', reply.location, reply.capability, {
        fos: 'response',
        token: 'x',
        ok: true,
      });
      await client.context.kernel.ukSend(service.name!, service.location, service.capability, {
        fos: 'message',
        body: 'fine',
      });
      await until(client, () => handled.length === 1);
      await server.dispatcher.whenIdle();
      expect(handled).toEqual(['fine']);
      expect(server.dispatcher.stats().envelopesMalformed).toBe(garbage.length + 1);
    }));

  it('serves the higher-priority mailbox first when several hold messages', () =>
    withMachine(kind, async (machine) => {
      const server = await dispatcherProcess(machine, 1, 'server');
      const order: string[] = [];
      const mailboxes = await Promise.all(
        ['/svc/low', '/svc/high'].map(async (name) => {
          const mailbox = await server.context.kernel.createMailbox();
          await server.context.kernel.addName(mailbox.location, name);
          return { name, location: mailbox.location, capability: mailbox.capability };
        }),
      );
      const [low, high] = mailboxes as [(typeof mailboxes)[0], (typeof mailboxes)[0]];
      const client = await dispatcherProcess(machine, 2, 'client');
      await client.dispatcher.spawnThread('main', async (thread) => {
        for (let index = 0; index < 3; index++) await thread.send(low, index);
        for (let index = 0; index < 3; index++) await thread.send(high, index);
      });
      // Both mailboxes hold messages before the dispatcher serves either.
      server.dispatcher.register(low.location, {
        priority: 0,
        handler: (request) => void order.push(`low ${JSON.stringify(request.body)}`),
      });
      server.dispatcher.register(high.location, {
        priority: 10,
        handler: (request) => void order.push(`high ${JSON.stringify(request.body)}`),
      });
      await server.dispatcher.whenIdle();
      expect(order).toEqual(['high 0', 'high 1', 'high 2', 'low 0', 'low 1', 'low 2']);
    }));
});

/** Sleeps in a thread of `process` until `ready()` holds (at most `stepsMax` 1 ms naps). */
async function until(process: DispatcherProcess, ready: () => boolean, stepsMax = 10_000): Promise<void> {
  await process.dispatcher.spawnThread('until', async (thread) => {
    for (let step = 0; !ready(); step++) {
      if (step >= stepsMax) throw new Error('condition never held');
      await thread.sleep(1);
    }
  });
}

describe.each(['local', 'sim'] as const)('dispatcher semantics on %s fabric', (kind) => {
  it('runs a woken thread to its next park before any further message (§5.3), and the test hook breaks it', async () => {
    async function scenario(skipParkWait: boolean): Promise<string[]> {
      const events: string[] = [];
      await withMachine(kind, async (machine) => {
        const peer = await dispatcherProcess(machine, 2, 'peer');
        const gate = peer.dispatcher.createCondition();
        const echo = await peer.serve('/svc/peer', {
          handler: async (request, thread) => {
            await thread.wait(gate);
            return request.body;
          },
        });
        const server = await dispatcherProcess(machine, 1, 'server', undefined, { skipParkWait });
        const service = await server.serve('/svc/ordered', {
          handler: async (request, thread) => {
            if (request.body === 'caller') {
              await thread.call(echo, 'ping');
              // A long stretch of microtask hops between the wake-up and the record.
              for (let hop = 0; hop < 100; hop++) await Promise.resolve();
              events.push('woken thread ran');
              await thread.sleep(1);
              return 'done';
            }
            events.push('next request handled');
            return 'ok';
          },
        });
        const client = await dispatcherProcess(machine, 3, 'client');
        const first = client.dispatcher.spawnThread('caller', (thread) => thread.call(service, 'caller'));
        await until(client, () => gate.waiting === 1);
        // The server's thread waits on the peer. Make a request and the peer's reply ready in one turn.
        server.dispatcher.pause();
        const second = client.dispatcher.spawnThread('second', (thread) => thread.call(service, 'second'));
        await until(client, () => server.context.kernel.pendingMessages(service.location) === 1);
        gate.signal();
        await until(client, () => server.context.kernel.pendingMessages(server.dispatcher.replyAddress.location) === 1);
        server.dispatcher.resume();
        await Promise.all([first, second]);
      });
      return events;
    }
    expect(await scenario(false)).toEqual(['woken thread ran', 'next request handled']);
    expect(await scenario(true)).toEqual(['next request handled', 'woken thread ran']);
  });
});

describe.each(['local', 'sim'] as const)('dispatcher operations on %s fabric', (kind) => {
  it('bounds live threads per mailbox: no deadlock, no loss, the peak is the bound, senders see WOULD_BLOCK', () =>
    withMachine(kind, async (machine) => {
      const backend = await dispatcherProcess(machine, 3, 'backend');
      const slow = await backend.serve('/svc/slow', {
        handler: async (request, thread) => {
          await thread.sleep(5);
          return request.body;
        },
      });
      const server = await dispatcherProcess(machine, 1, 'server');
      // Every thread of the bounded server waits on the backend's reply: replies must still get in.
      const bounded = await server.serve('/svc/bounded', {
        liveThreadsMax: 4,
        queueMessagesMax: 2,
        handler: async (request, thread) => (await thread.call(slow, request.body)).body,
      });
      const clients = await Promise.all([0, 2].map((core) => dispatcherProcess(machine, core, `client${core}`)));
      const answers = clients.flatMap((client, clientIndex) =>
        Array.from({ length: 12 }, (_, index) =>
          client.dispatcher.spawnThread(
            `caller${index}`,
            async (thread) => (await thread.call(bounded, clientIndex * 100 + index)).body,
          ),
        ),
      );
      const results = (await Promise.all(answers)) as number[];
      expect(results.sort((left, right) => left - right)).toEqual([
        ...Array.from({ length: 12 }, (_, index) => index),
        ...Array.from({ length: 12 }, (_, index) => 100 + index),
      ]);
      expect(server.dispatcher.stats().mailboxes[0]?.liveThreadsPeak).toBe(4);
      expect(server.dispatcher.stats().requestsHandled).toBe(24);
      expect(clients.reduce((sum, client) => sum + client.sendCounters.wouldBlock, 0)).toBeGreaterThan(0);
      expect(clients.reduce((sum, client) => sum + client.sendCounters.abandoned, 0)).toBe(0);
    }));

  it('times a nested call out at the caller’s deadline, drops late responses and expired requests', () =>
    withMachine(kind, async (machine) => {
      const backend = await dispatcherProcess(machine, 3, 'backend');
      const slow = await backend.serve('/svc/slow', {
        handler: async (request, thread) => {
          await thread.sleep(200);
          return request.body;
        },
      });
      const server = await dispatcherProcess(machine, 1, 'server');
      const nested: Array<{ code: string; startedMs: number; endedMs: number; deadlineMs: number | undefined }> = [];
      const middle = await server.serve('/svc/middle', {
        handler: async (request, thread) => {
          const startedMs = server.context.clock.now();
          const outcome = await thread.call(slow, 'x', { timeoutMs: 10_000 }).catch((error: unknown) => error);
          nested.push({
            code: isFosError(outcome) ? outcome.code : 'answered',
            startedMs,
            endedMs: server.context.clock.now(),
            deadlineMs: request.deadlineMs,
          });
          // Past the deadline (whole milliseconds of a timer may end it a fraction early): answer late.
          await thread.sleep(20);
          return 'too late to matter';
        },
      });
      const client = await dispatcherProcess(machine, 2, 'client');
      const callerStartedMs = client.context.clock.now();
      expect(
        await client.dispatcher.spawnThread('main', (thread) => codeOf(thread.call(middle, 'go', { timeoutMs: 50 }))),
      ).toBe('TIMEOUT');
      await until(client, () => nested.length === 1);
      const seen = nested[0]!;
      expect(seen.deadlineMs).toBeTypeOf('number');
      const deadlineMs = seen.deadlineMs ?? Number.NaN;
      // The middle thread's deadline is the client's 50 ms budget from when its request was queued.
      expect(deadlineMs).toBeGreaterThanOrEqual(callerStartedMs + 50);
      expect(deadlineMs - seen.startedMs).toBeLessThanOrEqual(50);
      // Its nested call gave up at that deadline, not after its own 10 s. A real timer's delay is whole
      // milliseconds and Node may fire it up to a millisecond early by the performance clock, so it may
      // end up to about 2 ms before the deadline (seen: 1.2 ms on a busy machine); 5 ms still tells it
      // from a call that gave up at once (45 ms or more early).
      expect(seen.code).toBe('TIMEOUT');
      expect(seen.endedMs).toBeGreaterThanOrEqual(deadlineMs - 5);
      expect(seen.endedMs - seen.startedMs).toBeLessThan(5_000);
      await until(client, () => server.dispatcher.stats().responsesLate === 1);
      // A caller that gives up before its request is even taken: the request is dropped as expired.
      backend.dispatcher.pause();
      expect(
        await client.dispatcher.spawnThread('main', (thread) =>
          codeOf(thread.call(slow, 'too late', { timeoutMs: 20 })),
        ),
      ).toBe('TIMEOUT');
      await client.dispatcher.spawnThread('wait', (thread) => thread.sleep(30));
      backend.dispatcher.resume();
      await until(client, () => backend.dispatcher.stats().requestsExpired === 1);
    }));

  it('lets deadline "none" wait past every timeout (two-phase commit exchanges)', () =>
    withMachine(kind, async (machine) => {
      const backend = await dispatcherProcess(machine, 3, 'backend');
      const seen: Array<number | undefined> = [];
      const slow = await backend.serve('/svc/slow', {
        handler: async (request, thread) => {
          seen.push(request.deadlineMs);
          await thread.sleep(300);
          return 'eventually';
        },
      });
      const client = await dispatcherProcess(machine, 2, 'client', { callTimeoutMsDefault: 100 });
      const body = await client.dispatcher.spawnThread(
        'main',
        async (thread) => (await thread.call(slow, 'x', { deadline: 'none' })).body,
      );
      expect(body).toBe('eventually');
      expect(seen).toEqual([undefined]);
      expect(await client.dispatcher.spawnThread('main', (thread) => codeOf(thread.call(slow, 'y')))).toBe('TIMEOUT');
    }));

  it('carries an exchange: respondAndAwait wakes on the follow-up; an unawaited follow-up is dropped and counted', () =>
    withMachine(kind, async (machine) => {
      const member = await dispatcherProcess(machine, 1, 'member');
      const outcomes: string[] = [];
      const vote = await member.serve('/svc/vote', {
        handler: async (request, thread) => {
          if (request.body === 'no-wait') return 'plain';
          const decision = await thread.respondAndAwait('yes', { deadline: 'none' });
          outcomes.push(JSON.stringify(decision));
          return undefined;
        },
      });
      const originator = await dispatcherProcess(machine, 2, 'originator');
      await originator.dispatcher.spawnThread('commit', async (thread) => {
        const { body, exchange } = await thread.call(vote, 'prepare', { deadline: 'none' });
        expect(body).toBe('yes');
        await exchange.followUp('commit');
        const plain = await thread.call(vote, 'no-wait');
        await plain.exchange.followUp('ignored');
      });
      await until(originator, () => outcomes.length === 1);
      expect(outcomes).toEqual(['"commit"']);
      expect(originator.dispatcher.stats().followUpsDropped).toBe(1);
    }));

  it('fans out with callAll and wakes once when all answered or timed out', () =>
    withMachine(kind, async (machine) => {
      const members = await Promise.all([1, 2, 3].map((core) => dispatcherProcess(machine, core, `member${core}`)));
      const addresses = await Promise.all(
        members.map((member, index) =>
          member.serve(`/svc/member${index}`, {
            handler: async (request, thread) => {
              if (index === 2) await thread.sleep(1000);
              if (index === 1) throw new FosError('CONFLICT', 'held');
              return `member${index}:${JSON.stringify(request.body)}`;
            },
          }),
        ),
      );
      const originator = await dispatcherProcess(machine, 0, 'originator');
      const outcomes = await originator.dispatcher.spawnThread('fan-out', (thread) =>
        thread.callAll(
          addresses.map((destination) => ({ destination, body: 'v' })),
          { timeoutMs: 100 },
        ),
      );
      expect(outcomes.map((outcome) => (outcome.ok ? outcome.body : outcome.error.code))).toEqual([
        'member0:"v"',
        'CONFLICT',
        'TIMEOUT',
      ]);
      expect(await originator.dispatcher.spawnThread('none', (thread) => thread.callAll([]))).toEqual([]);
    }));

  it('wakes condition waiters in FIFO order before the next message, without yielding in signal', () =>
    withMachine(kind, async (machine) => {
      const process = await dispatcherProcess(machine, 1, 'solo');
      const condition = process.dispatcher.createCondition();
      const order: string[] = [];
      const waiters = ['a', 'b', 'c'].map((name) =>
        process.dispatcher.spawnThread(name, async (thread) => {
          await thread.wait(condition);
          order.push(name);
        }),
      );
      await until(process, () => condition.waiting === 3);
      await process.dispatcher.spawnThread('signaller', async () => {
        condition.signal();
        order.push('signal returned');
        condition.broadcast();
        order.push('broadcast returned');
      });
      await Promise.all(waiters);
      expect(order).toEqual(['signal returned', 'broadcast returned', 'a', 'b', 'c']);
      const timedOut = await process.dispatcher.spawnThread('late', (thread) =>
        codeOf(thread.wait(condition, { timeoutMs: 5 })),
      );
      expect(timedOut).toBe('TIMEOUT');
      expect(condition.waiting).toBe(0);
    }));

  it('waits for any Promise with waitFor, and crashes a thread that awaits one without it, naming it', () =>
    withMachine(kind, async (machine, crashes) => {
      const process = await dispatcherProcess(machine, 1, 'solo');
      const mailbox = await process.dispatcher.spawnThread('syscall', (thread) =>
        thread.waitFor(process.context.kernel.createMailbox()),
      );
      expect(mailbox.location.core).toBe(1);
      expect(
        await process.dispatcher.spawnThread('rejects', (thread) =>
          codeOf(thread.waitFor(Promise.reject(new FosError('CONFLICT', 'x')))),
        ),
      ).toBe('CONFLICT');
      const broken = await dispatcherProcess(machine, 2, 'broken');
      // A promise that never settles: with a timer instead, a busy machine could run the timer before
      // the watchdog's turn, and the thread would finish unseen.
      void broken.dispatcher.spawnThread('stray', async () => {
        await new Promise(() => undefined);
      });
      const exit = await broken.context.exited;
      expect(exit.crashed).toBe(true);
      expect(crashes.join('\n')).toMatch(/thread stray was woken and stopped without parking/);
    }));

  it('logs and counts a reply it cannot deliver, and keeps serving; a handler bug crashes the process', () =>
    withMachine(kind, async (machine, crashes) => {
      const server = await dispatcherProcess(machine, 1, 'server');
      const service = await server.serve('/svc/reply', {
        handler: async (request, thread) => {
          if (request.body === 'bug') throw new TypeError('handler bug');
          await thread.sleep(20);
          return 'late answer';
        },
      });
      const doomed = await dispatcherProcess(machine, 2, 'doomed');
      void doomed.dispatcher.spawnThread('asker', (thread) => thread.call(service, 'x').catch(() => undefined));
      await until(server, () => server.dispatcher.stats().threadsLive === 1);
      doomed.context.exit();
      await until(server, () => server.dispatcher.stats().repliesUndeliverable === 1);
      expect(server.logs.join('\n')).toMatch(/could not be delivered/);
      const client = await dispatcherProcess(machine, 3, 'client');
      expect(
        await client.dispatcher.spawnThread('again', async (thread) => (await thread.call(service, 'y')).body),
      ).toBe('late answer');
      void client.dispatcher.spawnThread('bug', (thread) =>
        thread.call(service, 'bug', { timeoutMs: 1000 }).catch(() => undefined),
      );
      expect((await server.context.exited).crashed).toBe(true);
      expect(crashes.join('\n')).toMatch(/handler bug/);
    }));
});

describe('dispatcher under SimFabric', () => {
  it("cancels its parked threads' timers when its process ends: an ended process holds no timer", () =>
    withMachine('sim', async (machine) => {
      const backend = await dispatcherProcess(machine, 3, 'backend');
      let received = false;
      const silent = await backend.serve('/svc/silent', {
        handler: (_request, thread) => {
          received = true;
          return thread.sleep(60_000);
        },
      });
      const client = await dispatcherProcess(machine, 1, 'client');
      const clock = (machine.fabric as SimFabric).world.virtualClock;
      const outcomes: string[] = [];
      void client.dispatcher
        .spawnThread('caller', (thread) => codeOf(thread.call(silent, 'x', { timeoutMs: 30_000 })))
        .then((code) => outcomes.push(code));
      void client.dispatcher
        .spawnThread('sleeper', (thread) => thread.sleep(30_000))
        .then(() => outcomes.push('slept'));
      for (let turn = 0; turn < 1000 && !received; turn++) await new Promise((resolve) => setImmediate(resolve));
      expect(received).toBe(true);
      // Both client threads are parked, each with a timer (the call's timeout, the sleep).
      const parked = clock.pendingTimers;
      client.context.exit();
      await client.context.exited;
      expect(clock.pendingTimers).toBe(parked - 2);
      // Its threads stay parked: nothing of the ended process runs again.
      expect(outcomes).toEqual([]);
    }));

  it('replays the same thread interleaving from the same seed', async () => {
    async function interleaving(seed: number): Promise<string[]> {
      const events: string[] = [];
      const { machine } = testMachine('sim', seed);
      try {
        const server = await dispatcherProcess(machine, 1, 'server');
        const service = await server.serve('/svc/log', {
          handler: async (request, thread) => {
            events.push(`start ${JSON.stringify(request.body)}`);
            await thread.sleep(1);
            events.push(`end ${JSON.stringify(request.body)}`);
            return null;
          },
        });
        const clients = await Promise.all([0, 2, 3].map((core) => dispatcherProcess(machine, core, `c${core}`)));
        await Promise.all(
          clients.flatMap((client, index) =>
            [0, 1, 2].map((call) =>
              client.dispatcher.spawnThread('call', (thread) => thread.call(service, `${index}.${call}`)),
            ),
          ),
        );
      } finally {
        await machine.shutdown();
      }
      return events;
    }
    const first = await interleaving(11);
    expect(await interleaving(11)).toEqual(first);
    const others = await Promise.all([12, 13, 14].map((seed) => interleaving(seed)));
    expect(others.some((events) => JSON.stringify(events) !== JSON.stringify(first))).toBe(true);
  });
});
