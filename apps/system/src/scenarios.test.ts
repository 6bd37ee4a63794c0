// The naming scenarios (thesis §4.2.4, §5.2, and migration), run through boot(): once on the
// local fabric and on worker threads, and on the sim fabric over many seeds (SIM_SEEDS; 200, or 2,000 under `pnpm test:long`;
// SIM_SEED=N replays one). Every scenario drives its processes through agents (@fos/system/testing): a test cannot hold a process that lives on another thread.
import type { MessageBody } from '@fos/base';
import type { Capability } from '@fos/microkernel';
import { runSeeds, tierCount } from '@fos/sim';
import { describe, expect, it } from 'vitest';
import type { Instance } from './index.js';
import type { AgentStats } from './testing.js';
import { RemoteAgent } from './testing.js';
import { codeOf } from '@fos/base/testing';
import { rootOf, testFabrics, withInstance } from './testing.js';

/** An agent's mailbox that records what it gets, registered under `name`; returns its name capability. */
async function remoteMember(agent: RemoteAgent, name: string, capability: Capability): Promise<Capability> {
  const mailbox = await agent.createMailbox(name);
  return agent.aliasRegisterDirect(name, mailbox, capability);
}

/** Scenario 1 (§4.2.4): a stale cache is refused by the kernel, refreshed, and delivered elsewhere. */
async function staleCache(instance: Instance): Promise<void> {
  const root = rootOf(instance);
  const first = await RemoteAgent.spawn(instance, 1, '/sys/fs/1');
  const second = await RemoteAgent.spawn(instance, 2, '/sys/fs/2');
  const client = await RemoteAgent.spawn(instance, 3, 'client');
  await remoteMember(first, '/sys/fs/1', root);
  await remoteMember(second, '/sys/fs/2', root);
  const fleetCapability = await second.aliasRegisterIndirect('/sys/fs', '/sys/fs/2', root, { weight: 3 });
  await client.send('/sys/fs', 'first');
  expect((await client.aliasResolve('/sys/fs')).chain).toEqual(['/sys/fs', '/sys/fs/2']);
  await second.aliasRegisterIndirect('/sys/fs', '/sys/fs/1', fleetCapability, { weight: 1 });
  // /sys/fs/2 leaves the fleet but keeps its own name; the client's cache still says /sys/fs → /sys/fs/2.
  await second.unregisterIndirect('/sys/fs', '/sys/fs/2', fleetCapability);
  await client.send('/sys/fs', 'second');
  await client.send('/sys/fs/2', 'direct still works');
  await client.settle();
  expect(await second.received()).toEqual(['/sys/fs/2:"first"', '/sys/fs/2:"direct still works"']);
  expect(await first.received()).toEqual(['/sys/fs/1:"second"']);
  expect((await client.stats()).refreshes).toBe(1);
  expect((await client.aliasResolve('/sys/fs')).chain).toEqual(['/sys/fs', '/sys/fs/1']);
}

/** Scenario 2: a channel made under a capability stops delivering once it is revoked; what was written arrives. */
async function revokedChannel(instance: Instance): Promise<void> {
  const root = rootOf(instance);
  const server = await RemoteAgent.spawn(instance, 1, 'server');
  const client = await RemoteAgent.spawn(instance, 2, 'client');
  const mailbox = await server.createQueueMailbox();
  await server.aliasRegisterDirect('/svc/ring', mailbox, root, { publish: false });
  const granted = await server.addCapability(mailbox.location);
  const resolved = await client.aliasResolve('/svc/ring');
  expect(resolved.publishedCapability).toBeNull();
  const channel = await client.createChannel('/svc/ring', resolved.location, granted);
  for (let index = 0; index < 3; index++) await client.channelSend(channel, { index });
  await server.removeCapability(mailbox.location, granted);
  expect(await codeOf(client.channelSend(channel, { index: 99 }))).toBe('PERMISSION_DENIED');
  expect(await client.channelClosed(channel)).toBe(true);
  expect(await codeOf(client.send('/svc/ring', { index: 100 }, { capability: granted }))).toBe('PERMISSION_DENIED');
  const got: MessageBody[] = [];
  for (let index = 0; index < 3; index++) got.push(await server.receive(mailbox.location));
  expect(got).toEqual([{ index: 0 }, { index: 1 }, { index: 2 }]);
  await server.settle();
  expect(await server.tryReceive(mailbox.location)).toBeUndefined();
}

/** Scenario 3 (§5.2): a fresh process, empty cache, sends its first request and gets its reply. */
async function freshProcess(instance: Instance): Promise<void> {
  const root = rootOf(instance);
  const echo = await RemoteAgent.spawn(instance, 1, '/svc/echo');
  const client = await RemoteAgent.spawn(instance, 2, 'fresh');
  const observer = await RemoteAgent.spawn(instance, 3, 'observer');
  await remoteMember(echo, '/svc/echo', root);
  const fresh = await client.stats();
  expect(fresh.cacheEntries).toBe(0);
  expect(fresh.replyName).toBeNull();
  expect(await client.call('/svc/echo', 'hello')).toEqual({ from: '/svc/echo', echo: 'hello' });
  const after = await client.stats();
  expect(after.replyName).toMatch(/^\/tmp\//);
  expect(await client.getCanonicalAlias()).toBe(after.replyName);
  await client.call('/svc/echo', 'again');
  expect((await client.stats()).lookups).toBe(after.lookups);
  const alias = await client.getCanonicalAlias();
  expect((await observer.aliasResolve(alias)).location).toEqual(after.replyLocation);
  await client.close();
  // Closing unregistered the canonical alias.
  expect(await codeOf(observer.lookup(alias))).toBe('NO_SUCH_NAME');
}

/** Sends a client keeps outstanding while the member it sends to migrates, and its pause between sends. */
const migrationWindow = 16;
const migrationIntervalMs = 1;
/** Sends done before the member starts to move, and at least how many more after it has moved. */
const migrationBefore = 40;
const migrationAfter = 40;

/**
 * Scenario 5 (migration, docs/rules.md): a client streams numbered sends to a member's name ({@link
 * migrationWindow} outstanding) while the member migrates: name inactive, old mailbox closed and handed
 * (queue, names, capabilities) to a successor on another core, name registered there and active again.
 * Every message arrives once, in order, and the client never sees an error. Run twice: with the client
 * on the kernel path only (its sends meet the closed mailbox: refusals, refreshes, inactive waits), and
 * with libfos's user-space channel (the stream moves onto a ring after a few sends; what the ring holds
 * at the move goes with the mailbox, and later sends meet the shot-down channel and fall back to the
 * kernel path).
 */
async function migrationOnKernelPath(instance: Instance): Promise<void> {
  const client = await migration(instance, 0);
  // The client met the migration: refused sends were refreshed, or Lookups waited out the inactive name.
  expect(client.refreshes + client.inactiveWaits).toBeGreaterThan(0);
  expect(client.channels.opened).toBe(0);
}

async function migrationOverChannel(instance: Instance): Promise<void> {
  const client = await migration(instance, undefined);
  const { channels } = client;
  expect(channels.opened).toBeGreaterThanOrEqual(1);
  expect(channels.channelSends).toBeGreaterThan(0);
  expect(channels.fallbacks).toBeGreaterThanOrEqual(1);
  expect(client.refreshes + client.inactiveWaits).toBeGreaterThan(0);
}

/** The sequence numbers in an agent's records of `label`, in arrival order. */
async function sequencesOf(agent: RemoteAgent, label: string): Promise<number[]> {
  return (await agent.received()).map((entry) => {
    expect(entry.startsWith(`${label}:`), entry).toBe(true);
    return (JSON.parse(entry.slice(label.length + 1)) as { sequence: number }).sequence;
  });
}

async function migration(instance: Instance, channelAfterSends: number | undefined): Promise<AgentStats> {
  const root = rootOf(instance);
  const old = await RemoteAgent.spawn(instance, 1, 'member');
  const mailbox = await old.createMailbox('old');
  const nameCapability = await old.aliasRegisterDirect('/svc/member', mailbox, root);
  await old.aliasRegisterIndirect('/svc/fleet', '/svc/member', root);
  const client = await RemoteAgent.spawn(
    instance,
    2,
    'client',
    channelAfterSends === undefined ? {} : { channelAfterSends },
  );
  await client.streamStart('/svc/member', { window: migrationWindow, intervalMs: migrationIntervalMs });
  await client.streamWait(migrationBefore);
  // The move, while the stream goes on.
  await old.deactivate('/svc/member', nameCapability);
  const successor = await RemoteAgent.spawn(instance, 3, 'member-2');
  const target = await successor.createMailbox('new');
  expect((await old.handOverMailbox(mailbox.location, target)).sort()).toEqual(['/svc/fleet', '/svc/member']);
  await successor.aliasRegisterDirect('/svc/member', target, nameCapability);
  const moved = await client.streamWait(0);
  await client.streamWait(moved + migrationAfter);
  const { sent, failures, failed } = await client.streamStop();
  expect(failures).toEqual([]);
  expect(failed).toBe(0);
  await client.settle(20);
  const before = await sequencesOf(old, 'old');
  const after = await sequencesOf(successor, 'new');
  expect([...before, ...after]).toEqual(Array.from({ length: sent }, (_, index) => index));
  expect(after.length).toBeGreaterThanOrEqual(migrationAfter);
  // The indirect name that led to the member leads to its successor: its alias is on the new mailbox.
  await client.send('/svc/fleet', { sequence: sent });
  await client.settle(5);
  expect((await sequencesOf(successor, 'new')).at(-1)).toBe(sent);
  return client.stats();
}

/** The scenarios, each driving its processes through agents (@fos/system/testing): local, sim and worker alike. */
const scenarios = { staleCache, revokedChannel, freshProcess, migrationOnKernelPath, migrationOverChannel } as const;

/** Uncached Lookups per phase of the load-balancing scenario, and how many run at once. */
const balancingLookups = 40_000;
const balancingConcurrency = 32;

function expectShares(counts: Map<string, number>, weights: Record<string, number>, lookups: number): void {
  const total = Object.values(weights).reduce((sum, weight) => sum + weight, 0);
  for (const [name, weight] of Object.entries(weights)) {
    const expected = (lookups * weight) / total;
    expect(
      Math.abs((counts.get(name) ?? 0) - expected),
      `${name}: ${counts.get(name) ?? 0} of ${lookups}, expected ${expected} ±10%`,
    ).toBeLessThanOrEqual(expected * 0.1);
  }
}

/**
 * Scenario 4 (§4.3, Lookup of an indirect name): 4 members on core 3, weights 1..4; a client on core 1
 * makes uncached Lookups, which land by weight; after member 1 moves to the client's core, by weight ×
 * locality (4 on the requester's core, 2 on its machine).
 */
async function loadBalancing(instance: Instance): Promise<void> {
  const root = rootOf(instance);
  const nameCapabilities: Capability[] = [];
  for (const index of [1, 2, 3, 4]) {
    const memberAgent = await RemoteAgent.spawn(instance, 3, `/lb/${index}`);
    nameCapabilities.push(await remoteMember(memberAgent, `/lb/${index}`, root));
    await memberAgent.aliasRegisterIndirect('/lb/svc', `/lb/${index}`, root, { weight: index });
  }
  const client = await RemoteAgent.spawn(instance, 1, 'client');
  expectShares(
    await client.lookupShares('/lb/svc', balancingLookups, balancingConcurrency),
    { '/lb/1': 1, '/lb/2': 2, '/lb/3': 3, '/lb/4': 4 },
    balancingLookups,
  );
  const moved = await RemoteAgent.spawn(instance, 1, 'lb-1-moved');
  const mailbox = await moved.createQueueMailbox();
  await moved.aliasRegisterDirect('/lb/1', mailbox, nameCapabilities[0] as Capability);
  const lookedUp = await client.lookup('/lb/1');
  expect(lookedUp.type === 'direct' && lookedUp).toMatchObject({ location: mailbox.location });
  expectShares(
    await client.lookupShares('/lb/svc', balancingLookups, balancingConcurrency),
    { '/lb/1': 1 * 4, '/lb/2': 2 * 2, '/lb/3': 3 * 2, '/lb/4': 4 * 2 },
    balancingLookups,
  );
}

/** The fabrics the portable scenarios run on, and the seeds of each scenario on `sim`. */
const fabrics = testFabrics;
const simSeeds = tierCount({ fast: 200, long: 2_000 });
/** What bounds a hang of one sweep (it grows with the tier's seeds). */
const sweepTimeoutMs = tierCount({ fast: 120_000, long: 1_200_000 });

describe.each(fabrics)('scenario loadBalancing through boot() and agents on the %s fabric', (fabric) => {
  it('spreads 40,000 uncached Lookups by weight, then by weight × locality (fixed seed)', async () => {
    await withInstance(fabric === 'sim' ? { fabric: 'sim', cores: 4, seed: 4 } : { fabric, cores: 4 }, loadBalancing);
  }, 120_000);
});

describe.each(fabrics)('the scenarios through boot() and agents on the %s fabric', (fabric) => {
  it.each(Object.entries(scenarios))(
    fabric === 'sim' ? `scenario %s holds for every seed (${simSeeds})` : 'scenario %s holds',
    async (_, scenario) => {
      if (fabric === 'sim')
        await runSeeds((seed) => withInstance({ fabric, cores: 4, seed }, scenario), { seeds: simSeeds, seedStart: 1 });
      else await withInstance({ fabric, cores: 4 }, scenario);
    },
    sweepTimeoutMs,
  );
});
