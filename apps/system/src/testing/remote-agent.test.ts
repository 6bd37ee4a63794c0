// The portable test harness itself (./agent.ts, ./remote-agent.ts): commands reach an agent and
// errors come back as the FosErrors they were, on every fabric.
import { describe, expect, it } from 'vitest';
import type { BootOptions, Instance } from '../index.js';
import { codeOf } from '@fos/base/testing';
import {
  agentBulkNamesMax,
  agentRecordedMax,
  agentSettleMsMax,
  agentStreamWindowMax,
  RemoteAgent,
  rootOf,
  withInstance,
} from '../testing.js';

const options: Record<'local' | 'sim' | 'worker', BootOptions> = {
  local: { fabric: 'local', cores: 2 },
  sim: { fabric: 'sim', cores: 2, seed: 5 },
  worker: { fabric: 'worker', cores: 2 },
};

/** A server agent whose recording mailbox (labelled `label`) is registered as `name`, and a client agent. */
async function serverAndClient(
  instance: Instance,
  name: string,
  label: string,
  clientCore = 0,
): Promise<{ server: RemoteAgent; client: RemoteAgent }> {
  const server = await RemoteAgent.spawn(instance, 1, 'server');
  const client = await RemoteAgent.spawn(instance, clientCore, 'client');
  await server.aliasRegisterDirect(name, await server.createMailbox(label), rootOf(instance));
  return { server, client };
}

describe.each(['local', 'sim', 'worker'] as const)('RemoteAgent on the %s fabric', (fabric) => {
  it('runs commands in an agent and records what its mailboxes get', async () => {
    await withInstance(options[fabric], async (instance) => {
      const { server, client } = await serverAndClient(instance, '/t/echo', '/t/echo');
      expect(await client.call('/t/echo', { n: 1n, bytes: new Uint8Array([1, 2]) })).toMatchObject({
        from: '/t/echo',
        echo: { n: 1n },
      });
      await client.send('/t/echo', 'one-way');
      await client.settle();
      expect(await server.received()).toEqual(['/t/echo:{"n":"1n","bytes":{"0":1,"1":2}}', '/t/echo:"one-way"']);
      expect((await client.lookup('/t/echo')).type).toBe('direct');
      expect((await client.stats()).unrecorded).toBe(0);
    });
  });

  it('records at most recordedMax messages and counts the rest', async () => {
    await withInstance(options[fabric], async (instance) => {
      const server = await RemoteAgent.spawn(instance, 1, 'server', { recordedMax: 3 });
      const client = await RemoteAgent.spawn(instance, 0, 'client');
      await server.aliasRegisterDirect('/t/few', await server.createMailbox('few'), rootOf(instance));
      for (let index = 0; index < 5; index++) await client.send('/t/few', index);
      await client.settle();
      expect(await server.received()).toEqual(['few:0', 'few:1', 'few:2']);
      expect((await server.stats()).unrecorded).toBe(2);
      expect(await codeOf(RemoteAgent.spawn(instance, 1, 'greedy', { recordedMax: agentRecordedMax + 1 }))).toBe(
        'BAD_REQUEST',
      );
    });
  });

  it('rethrows an error answer as the FosError it was, and refuses bad commands with BAD_REQUEST', async () => {
    await withInstance(options[fabric], async (instance) => {
      const agent = await RemoteAgent.spawn(instance, 1, 'agent');
      expect(await codeOf(agent.lookup('/t/nothing'))).toBe('NO_SUCH_NAME');
      expect(await codeOf(agent.send('/t/nothing', 'x'))).toBe('NO_SUCH_NAME');
      expect(await codeOf(agent.settle(agentSettleMsMax + 1))).toBe('BAD_REQUEST');
      expect(await codeOf(agent.command({ op: 'unknown' } as never))).toBe('BAD_REQUEST');
      expect(await codeOf(agent.channelSend(0, 'x'))).toBe('BAD_REQUEST');
      expect(await codeOf(agent.streamWait(1))).toBe('BAD_REQUEST');
      expect(await codeOf(agent.streamStop())).toBe('BAD_REQUEST');
      expect(await codeOf(agent.streamStart('/t/x', { window: agentStreamWindowMax + 1, intervalMs: 1 }))).toBe(
        'BAD_REQUEST',
      );
      expect(
        await codeOf(
          agent.aliasRegisterDirectMany(
            Array.from({ length: agentBulkNamesMax + 1 }, (_, index) => `/t/n${index}`),
            await agent.createQueueMailbox(),
            rootOf(instance),
          ),
        ),
      ).toBe('BAD_REQUEST');
      expect(
        await codeOf(agent.handOverMailbox({ machine: 'm0', core: 1, mailbox: 999 }, await agent.createQueueMailbox())),
      ).toBe('BAD_REQUEST');
      // The agent still answers after all that.
      expect(await agent.received()).toEqual([]);
      // An answer too large for one message comes back as the error it met, not as silence.
      const mailbox = await agent.createMailbox('big');
      await agent.aliasRegisterDirect('/t/big', mailbox, rootOf(instance));
      for (let index = 0; index < 3; index++) await agent.send('/t/big', 'x'.repeat(30_000));
      await agent.settle();
      expect(await codeOf(agent.received())).toBe('MESSAGE_TOO_LARGE');
    });
  });

  it('streams numbered sends, one stream at a time, and reports the failures it met', async () => {
    await withInstance(options[fabric], async (instance) => {
      const { server, client } = await serverAndClient(instance, '/t/stream', 's');
      await client.streamStart('/t/stream', { window: 4, intervalMs: 1 });
      expect(await codeOf(client.streamStart('/t/stream', { window: 4, intervalMs: 1 }))).toBe('BAD_REQUEST');
      expect(await client.streamWait(50)).toBeGreaterThanOrEqual(50);
      const { sent, failures, failed } = await client.streamStop();
      expect([failures, failed]).toEqual([[], 0]);
      await client.settle(10);
      expect(await server.received()).toEqual(
        Array.from({ length: sent }, (_, sequence) => `s:{"sequence":${sequence}}`),
      );
      // A stream to a name nobody registered fails every send, and says so.
      await client.streamStart('/t/nobody', { window: 2, intervalMs: 1 });
      await client.streamWait(3);
      const missed = await client.streamStop();
      expect(missed.failed).toBe(missed.sent);
      expect(missed.failures[0]).toMatch(/NO_SUCH_NAME/);
    });
  });
});

describe('RemoteAgent on the sim fabric', () => {
  it('replays one seed exactly: agents and their command processes are part of the simulation', async () => {
    const run = () =>
      withInstance({ fabric: 'sim', cores: 3, seed: 11 }, async (instance) => {
        const { server, client } = await serverAndClient(instance, '/t/echo', '/t/echo', 2);
        for (let index = 0; index < 5; index++) await client.call('/t/echo', index);
        await client.settle();
        return { stats: instance.stats(), client: await client.stats(), received: await server.received() };
      });
    const first = await run();
    expect(first.received).toHaveLength(5);
    expect(await run()).toEqual(first);
  });
});
