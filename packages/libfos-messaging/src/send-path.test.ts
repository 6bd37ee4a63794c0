import { LocalFabric, Machine, SimFabric, type ProcessContext } from '@fos/microkernel';
import { codeOf } from '@fos/base/testing';
import { describe, expect, it } from 'vitest';
import { createSendPath, ukSendFunction, type UkSendCounters } from './send-path.js';

async function contextOn(machine: Machine, core: number, name: string): Promise<ProcessContext> {
  let made: ProcessContext | undefined;
  await machine.spawn({ core, name, function: (context) => void (made = context) });
  if (made === undefined) throw new Error(`the entry of ${name} did not run`);
  return made;
}

describe.each(['local', 'sim'] as const)('the send path on %s fabric', (kind) => {
  async function withParties(run: (server: ProcessContext, client: ProcessContext) => Promise<void>): Promise<void> {
    const machine = new Machine({
      fabric: kind === 'local' ? new LocalFabric({ cores: 3 }) : new SimFabric({ cores: 3, seed: 5 }),
      log: () => undefined,
    });
    try {
      await run(await contextOn(machine, 1, 'server'), await contextOn(machine, 2, 'client'));
    } finally {
      await machine.shutdown();
    }
  }

  it('re-sends a WOULD_BLOCK in place, in order, and abandons any other refusal so the stream moves on', () =>
    withParties(async (server, client) => {
      const mailbox = await server.kernel.createMailbox({ queueMessagesMax: 1 });
      await server.kernel.addName(mailbox.location, '/svc/narrow');
      const counters: UkSendCounters = { wouldBlock: 0, abandoned: 0 };
      const send = ukSendFunction(client.kernel, client.clock, counters);
      const address = { name: '/svc/narrow', location: mailbox.location, capability: mailbox.capability };
      expect(await codeOf(send({ ...address, name: '/svc/other' }, 'refused'))).toBe('NO_SUCH_NAME');
      expect(counters.abandoned).toBe(1);
      await send(address, 'first');
      // The queue holds one message: the second waits, re-sent, until the server takes the first.
      const second = send(address, 'second');
      // Until the kernel has refused it at least once (a while, on a busy machine; the bound is a hang's).
      for (let waitedMs = 0; counters.wouldBlock === 0; waitedMs++) {
        if (waitedMs > 20_000) throw new Error('the second send was never refused with WOULD_BLOCK');
        await new Promise<void>((resolve) => client.clock.setTimer(1, resolve));
      }
      expect((await server.kernel.receive(mailbox.location)).body).toBe('first');
      await second;
      expect((await server.kernel.receive(mailbox.location)).body).toBe('second');
      expect(counters.abandoned).toBe(1);
    }));

  it('refuses with BAD_REQUEST a reply to a nameless mailbox without the kernel capability, and a name without a location', () =>
    withParties(async (server, client) => {
      const mailbox = await server.kernel.createMailbox();
      const path = createSendPath(client.kernel, client.clock, {
        kernelCapability: undefined,
        channelAfterSends: 8,
        channelsPerProcessMax: 16,
        replyNamed: () => false,
      });
      expect(
        await codeOf(path.send({ name: null, location: mailbox.location, capability: mailbox.capability }, 'reply')),
      ).toBe('BAD_REQUEST');
      expect(await codeOf(path.send({ name: '/svc/anything' }, 'message'))).toBe('BAD_REQUEST');
      expect(path.counters.send).toEqual({ wouldBlock: 0, abandoned: 0 });
    }));
});
