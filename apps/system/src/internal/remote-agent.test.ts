// The portable test harness itself (./agent.ts, ./remote-agent.ts): commands reach an agent and
// errors come back as the FosErrors they were, on every fabric.
import { describe, expect, it } from 'vitest';
import type { BootOptions } from '../index.js';
import { RemoteAgent } from './remote-agent.js';
import { agentRecordedMax, agentSettleMsMax } from './agent.js';
import { codeOf, rootOf, withInstance } from './testing.js';

const options: Record<'local' | 'sim' | 'worker', BootOptions> = {
  local: { fabric: 'local', cores: 2 },
  sim: { fabric: 'sim', cores: 2, seed: 5 },
  worker: { fabric: 'worker', cores: 2 },
};

describe.each(['local', 'sim', 'worker'] as const)('RemoteAgent on the %s fabric', (fabric) => {
  it('runs commands in an agent and records what its mailboxes get', async () => {
    await withInstance(options[fabric], async (instance) => {
      const server = await RemoteAgent.spawn(instance, 1, 'server');
      const client = await RemoteAgent.spawn(instance, 0, 'client');
      const mailbox = await server.createMailbox('/t/echo');
      await server.aliasRegisterDirect('/t/echo', mailbox, rootOf(instance));
      expect(await client.call('/t/echo', { n: 1n, bytes: new Uint8Array([1, 2]) })).toMatchObject({ from: '/t/echo', echo: { n: 1n } });
      await client.send('/t/echo', 'one-way');
      await client.settle();
      expect(await server.received()).toEqual(['/t/echo:{"n":"1n","bytes":{"0":1,"1":2}}', '/t/echo:"one-way"']);
      expect((await client.lookup('/t/echo')).type).toBe('direct');
      expect((await client.stats()).unrecorded).toBe(0);
      expect(agentRecordedMax).toBeGreaterThan(0);
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
      // The agent still answers after all that.
      expect(await agent.received()).toEqual([]);
    });
  });
});

describe('RemoteAgent on the sim fabric', () => {
  it('replays one seed exactly: agents and their command processes are part of the simulation', async () => {
    const run = () =>
      withInstance({ fabric: 'sim', cores: 3, seed: 11 }, async (instance) => {
        const server = await RemoteAgent.spawn(instance, 1, 'server');
        const client = await RemoteAgent.spawn(instance, 2, 'client');
        const mailbox = await server.createMailbox('/t/echo');
        await server.aliasRegisterDirect('/t/echo', mailbox, rootOf(instance));
        for (let index = 0; index < 5; index++) await client.call('/t/echo', index);
        await client.settle();
        return { stats: instance.stats(), client: await client.stats(), received: await server.received() };
      });
    const first = await run();
    expect(first.received).toHaveLength(5);
    expect(await run()).toEqual(first);
  });
});
