import { hasFosErrorCode, type MessageBody } from '@fos/base';
import { isCapability, type MailboxLocation, type ProcessContext } from '@fos/microkernel';
import { describe, expect, it, vi } from 'vitest';
import { boot, type BootOptions, type Instance } from './index.js';

async function expectBadRequest(options: unknown, mentions: string): Promise<void> {
  const error: unknown = await boot(options as BootOptions).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(hasFosErrorCode(error, 'BAD_REQUEST'), String(error)).toBe(true);
  expect((error as Error).message).toContain(mentions);
}

describe('boot validates its options', () => {
  it('refuses a value that is not an options object', async () => {
    await expectBadRequest(null, 'null');
    await expectBadRequest('local', '"local"');
  });

  it('refuses an unknown fabric, naming it', async () => {
    await expectBadRequest({ fabric: 'tcp' }, 'fabric = "tcp"');
  });

  it('refuses more worker cores than workerCoresMax', async () => {
    await expectBadRequest({ fabric: 'worker', cores: 65 }, 'workerCoresMax');
  });

  it('refuses core counts outside 1..coresMax and non-integers, naming them', async () => {
    await expectBadRequest({ fabric: 'local', cores: 0 }, 'cores = 0');
    await expectBadRequest({ fabric: 'local', cores: 257 }, 'cores = 257');
    await expectBadRequest({ fabric: 'local', cores: 1.5 }, 'cores = 1.5');
    await expectBadRequest({ fabric: 'local', cores: '4' }, 'cores = "4"');
  });

  it('needs a seed for sim, and an integer one', async () => {
    await expectBadRequest({ fabric: 'sim', cores: 2 }, 'needs a seed');
    await expectBadRequest({ fabric: 'sim', seed: 0.5 }, 'seed = 0.5');
  });

  it('refuses a bad machine name and bad limits', async () => {
    await expectBadRequest({ fabric: 'local', machine: 'no spaces' }, 'machine = "no spaces"');
    await expectBadRequest({ fabric: 'local', limits: { queueMessagesMax: 0 } }, 'limit queueMessagesMax is invalid');
    await expectBadRequest({ fabric: 'local', limits: { queueSize: 8 } }, '"queueSize"');
  });

  it('refuses unknown options, more name servers than it can start, and bad name-service limits', async () => {
    await expectBadRequest({ fabric: 'local', nameServer: 1 }, '"nameServer"');
    await expectBadRequest({ fabric: 'local', nameServers: 9 }, 'nameServers = 9');
    await expectBadRequest({ fabric: 'local', nameServers: -1 }, 'nameServers = -1');
    await expectBadRequest({ fabric: 'local', nameServiceLimits: { lookupTtlMs: -5 } }, 'lookupTtlMs');
  });
});

interface Address {
  readonly name: string;
  readonly location: MailboxLocation;
  readonly capability: string;
}

/** Two processes on cores 1 and 3: the second sends `count` greetings, the first answers each. */
async function exchange(instance: Instance, count: number): Promise<string[]> {
  const answerer = await instance.spawn({
    core: 1,
    name: 'answerer',
    function: async ({ kernel }: ProcessContext) => {
      const mailbox = await kernel.createMailbox();
      await kernel.addName(mailbox.location, '/test/answerer');
      // The last reply's acknowledgement may still be in flight at shutdown: SHUTDOWN ends the loop.
      void (async () => {
        for (;;) {
          const request = (await kernel.receive(mailbox.location)).body as unknown as { text: string; reply: Address };
          await kernel.ukSend(
            request.reply.name,
            request.reply.location,
            request.reply.capability as never,
            `re: ${request.text}`,
          );
        }
      })().catch((error: unknown) => {
        if (!hasFosErrorCode(error, 'SHUTDOWN')) throw error;
      });
      return { name: '/test/answerer', location: mailbox.location, capability: mailbox.capability };
    },
  });
  const server = answerer.result as unknown as Address;
  expect(isCapability(server.capability)).toBe(true);
  const asker = await instance.spawn({
    core: 3,
    name: 'asker',
    args: { count },
    function: async ({ kernel }: ProcessContext, args: MessageBody) => {
      const mailbox = await kernel.createMailbox();
      await kernel.addName(mailbox.location, '/test/asker');
      const reply = { name: '/test/asker', location: mailbox.location, capability: mailbox.capability };
      const answers: string[] = [];
      for (let index = 0; index < (args as { count: number }).count; index++) {
        await kernel.ukSend(server.name, server.location, server.capability as never, {
          text: `hello ${index}`,
          reply,
        });
        answers.push((await kernel.receive(mailbox.location)).body as string);
      }
      return answers;
    },
  });
  expect(asker.core).toBe(3);
  return asker.result as string[];
}

describe('boot', () => {
  it('boots a local instance whose processes on different cores exchange messages', async () => {
    const instance = await boot({ fabric: 'local', cores: 4, machine: 'alpha', nameServers: 0 });
    try {
      expect(instance.cores).toBe(4);
      expect(instance.fabric.kind).toBe('local');
      expect(instance.machine.name).toBe('alpha');
      expect(isCapability(instance.kernelCapability)).toBe(true);
      expect(await exchange(instance, 5)).toEqual([
        're: hello 0',
        're: hello 1',
        're: hello 2',
        're: hello 3',
        're: hello 4',
      ]);
      expect(instance.stats()).toEqual({
        fabric: 'local',
        cores: 4,
        processes: 2,
        mailboxes: 2,
        delivered: 10,
        refused: 0,
      });
    } finally {
      await instance.shutdown();
    }
    await instance.shutdown();
    await expect(instance.spawn({ core: 0, function: () => null })).rejects.toThrow(/SHUTDOWN/);
  });

  it('boots a sim instance that runs the same exchange, and repeats it for the same seed', async () => {
    const run = async (): Promise<{ answers: string[]; capability: string }> => {
      const instance = await boot({ fabric: 'sim', cores: 4, seed: 42, nameServers: 0 });
      try {
        expect(instance.fabric.kind).toBe('sim');
        const answers = await exchange(instance, 3);
        await instance.fabric.quiet();
        expect(instance.stats()).toMatchObject({ fabric: 'sim', processes: 2, delivered: 6, refused: 0 });
        return { answers, capability: instance.kernelCapability };
      } finally {
        await instance.shutdown();
      }
    };
    const first = await run();
    expect(first.answers).toEqual(['re: hello 0', 're: hello 1', 're: hello 2']);
    expect(await run()).toEqual(first);
  });

  it('routes its log lines by level: a crash report to log as an error, none when silent or FOS_LOG=silent', async () => {
    const crash = (instance: Awaited<ReturnType<typeof boot>>) =>
      instance
        .spawn({
          core: 1,
          function: () => {
            throw new Error('boom');
          },
        })
        .catch(() => undefined);
    const lines: Array<[string, string]> = [];
    const logged = await boot({ fabric: 'local', nameServers: 0, log: (line, level) => lines.push([level, line]) });
    const silenced = await boot({
      fabric: 'local',
      nameServers: 0,
      log: (line, level) => lines.push([level, line]),
      logLevel: 'silent',
    });
    const quietLog = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await crash(logged);
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.every(([level]) => level === 'error')).toBe(true);
      expect(lines.map(([, line]) => line).join('\n')).toContain('boom');
      const before = lines.length;
      await crash(silenced);
      expect(lines).toHaveLength(before);
      vi.stubEnv('FOS_LOG', 'silent');
      const quiet = await boot({ fabric: 'local', nameServers: 0 });
      await crash(quiet);
      await quiet.shutdown();
      expect(quietLog).not.toHaveBeenCalled();
      vi.stubEnv('FOS_LOG', 'loud');
      await expect(boot({ fabric: 'local', nameServers: 0 })).rejects.toThrow(
        'FOS_LOG="loud" is not one of silent, error, info',
      );
      await expect(boot({ fabric: 'local', nameServers: 0, logLevel: 'loud' as never })).rejects.toThrow(/logLevel/);
    } finally {
      vi.unstubAllEnvs();
      quietLog.mockRestore();
      await logged.shutdown();
      await silenced.shutdown();
    }
  });

  it('defaults to 4 cores and applies kernel limits', async () => {
    const instance = await boot({ fabric: 'local', limits: { mailboxesPerProcessMax: 1 }, nameServers: 0 });
    // The kernel reports the crashed process on console.error; the test reads the error instead.
    const quietLog = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(instance.cores).toBe(4);
      const error: unknown = await instance
        .spawn({
          core: 0,
          function: async ({ kernel }: ProcessContext) => {
            await kernel.createMailbox();
            await kernel.createMailbox();
          },
        })
        .catch((caught: unknown) => caught);
      expect(String(error)).toMatch(/mailboxesPerProcessMax/);
      expect(quietLog).toHaveBeenCalledOnce();
    } finally {
      quietLog.mockRestore();
      await instance.shutdown();
    }
  });
});
