// The scenarios of issue 4 (thesis §4.2.4, §5.2, DESIGN section 5), run through boot(): on the local
// fabric once, and on the sim fabric over many seeds (SIM_SEEDS, default 200; SIM_SEED=N replays one).
import { spawnLibfos, type Libfos } from '@fos/libfos-messaging';
import { isFosError, type Capability, type MessageBody } from '@fos/microkernel';
import { runSeeds } from '@fos/sim';
import { describe, expect, it } from 'vitest';
import type { Instance } from './index.js';
import { withInstance } from './internal/testing.js';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return isFosError(error) ? error.code : `not a FosError: ${String(error)}`;
  }
}

/** Spawns a process whose entry assembles its libfos, and hands that libfos to the test (same thread). */
function libfosOn(instance: Instance, core: number, name: string): Promise<Libfos> {
  return spawnLibfos(instance, core, name);
}

/** A member of a fleet: a process with a served mailbox registered under `name`; records what it gets. */
async function member(instance: Instance, core: number, name: string, capability: Capability, received: string[]) {
  const libfos = await libfosOn(instance, core, name);
  const mailbox = await libfos.createMailbox();
  libfos.serve(mailbox.location, {
    handler: (request) => {
      received.push(`${name}:${JSON.stringify(request.body)}`);
      return request.expectsReply ? { from: name, echo: request.body } : undefined;
    },
  });
  const nameCapability = await libfos.aliasRegisterDirect(name, mailbox, capability);
  return { libfos, mailbox, nameCapability };
}

function rootOf(instance: Instance): Capability {
  const service = instance.nameService;
  if (service === undefined) throw new Error('booted without a name service');
  return service.rootCapability;
}

async function settle(libfos: Libfos, ms = 5): Promise<void> {
  await libfos.dispatcher.spawnThread('settle', (thread) => thread.sleep(ms));
}

/** Scenario 1 (§4.2.4): a stale cache is refused by the kernel, refreshed, and delivered elsewhere. */
async function staleCache(instance: Instance): Promise<void> {
  const root = rootOf(instance);
  const received: string[] = [];
  await member(instance, 1, '/sys/fs/1', root, received);
  const second = await member(instance, 2, '/sys/fs/2', root, received);
  const fleetCapability = await second.libfos.aliasRegisterIndirect('/sys/fs', '/sys/fs/2', root, { weight: 3 });
  const client = await libfosOn(instance, 3, 'client');
  await client.send('/sys/fs', 'first');
  expect((await client.aliasResolve('/sys/fs')).chain).toEqual(['/sys/fs', '/sys/fs/2']);
  await second.libfos.aliasRegisterIndirect('/sys/fs', '/sys/fs/1', fleetCapability, { weight: 1 });
  // /sys/fs/2 leaves the fleet but keeps its own name; the client's cache still says /sys/fs → /sys/fs/2.
  await second.libfos.unregisterIndirect('/sys/fs', '/sys/fs/2', fleetCapability);
  await client.send('/sys/fs', 'second');
  await client.send('/sys/fs/2', 'direct still works');
  await settle(client);
  expect(received).toEqual(['/sys/fs/2:"first"', '/sys/fs/1:"second"', '/sys/fs/2:"direct still works"']);
  expect(client.stats().refreshes).toBe(1);
  expect((await client.aliasResolve('/sys/fs')).chain).toEqual(['/sys/fs', '/sys/fs/1']);
}

/** Scenario 2: a channel made under a capability stops delivering once it is revoked; what was written arrives. */
async function revokedChannel(instance: Instance): Promise<void> {
  const root = rootOf(instance);
  const server = await libfosOn(instance, 1, 'server');
  const mailbox = await server.createMailbox();
  await server.aliasRegisterDirect('/svc/ring', mailbox, root, { publish: false });
  const granted = await server.context.kernel.addCapability(mailbox.location);
  const client = await libfosOn(instance, 2, 'client');
  const resolved = await client.aliasResolve('/svc/ring');
  expect(resolved.publishedCapability).toBeNull();
  const channel = await client.context.kernel.createChannel('/svc/ring', resolved.location, granted);
  for (let index = 0; index < 3; index++) await channel.send({ index });
  await server.context.kernel.removeCapability(mailbox.location, granted);
  expect(await codeOf(channel.send({ index: 99 }))).toBe('PERMISSION_DENIED');
  expect(channel.closed).toBe(true);
  expect(await codeOf(client.send('/svc/ring', { index: 100 }, { capability: granted }))).toBe('PERMISSION_DENIED');
  const got: MessageBody[] = [];
  for (let index = 0; index < 3; index++) got.push((await server.context.kernel.receive(mailbox.location)).body);
  expect(got).toEqual([{ index: 0 }, { index: 1 }, { index: 2 }]);
  await settle(server);
  expect(server.context.kernel.tryReceive(mailbox.location)).toBeUndefined();
}

/** Scenario 3 (§5.2): a fresh process, empty cache, sends its first request and gets its reply. */
async function freshProcess(instance: Instance): Promise<void> {
  const root = rootOf(instance);
  await member(instance, 1, '/svc/echo', root, []);
  const client = await libfosOn(instance, 2, 'fresh');
  expect(client.cache.stats().entries).toBe(0);
  expect(client.dispatcher.replyAddress.name).toBeNull();
  const { body } = await client.call('/svc/echo', 'hello');
  expect(body).toEqual({ from: '/svc/echo', echo: 'hello' });
  expect(client.dispatcher.replyAddress.name).toMatch(/^\/tmp\//);
  expect(await client.getCanonicalAlias()).toBe(client.dispatcher.replyAddress.name);
  const lookups = client.stats().lookups;
  await client.call('/svc/echo', 'again');
  expect(client.stats().lookups).toBe(lookups);
  const alias = await client.getCanonicalAlias();
  const observer = await libfosOn(instance, 3, 'observer');
  expect((await observer.aliasResolve(alias)).location).toEqual(client.dispatcher.replyAddress.location);
  await client.close();
  // Closing unregistered the canonical alias.
  expect(await codeOf(observer.nameService.lookup(alias))).toBe('NO_SUCH_NAME');
}

/** Sends (and how many) a client keeps outstanding while the member it sends to migrates. */
const migrationWindow = 16;
const migrationMessages = 120;

/**
 * Scenario 5 (DESIGN section 5): a client keeps {@link migrationWindow} sends outstanding to a member's
 * name while the member migrates: name inactive, old mailbox closed and handed (queue, names,
 * capabilities) to a successor on another core, name registered there and active again. Every message
 * arrives once, in order, and the client never sees an error.
 */
async function migration(instance: Instance): Promise<void> {
  const root = rootOf(instance);
  const arrived: Array<{ sequence: number; by: string }> = [];
  const handler = (by: string) => (request: { body: MessageBody }) => void arrived.push({ sequence: (request.body as { sequence: number }).sequence, by });
  const old = await libfosOn(instance, 1, 'member');
  const mailbox = await old.createMailbox();
  old.serve(mailbox.location, { handler: handler('old') });
  const nameCapability = await old.aliasRegisterDirect('/svc/member', mailbox, root);
  await old.aliasRegisterIndirect('/svc/fleet', '/svc/member', root);
  const client = await libfosOn(instance, 2, 'client');
  const failures: unknown[] = [];
  const inFlight = new Set<Promise<void>>();
  let migrated: Promise<void> | undefined;
  for (let sequence = 0; sequence < migrationMessages; sequence++) {
    while (inFlight.size >= migrationWindow) await Promise.race(inFlight);
    const sending = client.send('/svc/member', { sequence }).catch((error: unknown) => void failures.push(error));
    inFlight.add(sending);
    void sending.finally(() => inFlight.delete(sending));
    if (sequence === migrationMessages / 3) {
      migrated = (async () => {
        await old.deactivate('/svc/member', nameCapability);
        const successor = await libfosOn(instance, 3, 'member-2');
        const target = await successor.createMailbox();
        successor.serve(target.location, { handler: handler('new') });
        const moved = await old.handOverMailbox(mailbox.location, target.location, target.capability);
        expect(moved.names.sort()).toEqual(['/svc/fleet', '/svc/member']);
        await successor.aliasRegisterDirect('/svc/member', target, nameCapability);
      })();
    }
  }
  await migrated;
  await Promise.all(inFlight);
  expect(failures.map((error) => (error as Error).stack)).toEqual([]);
  // The client met the migration: refused sends were refreshed, or Lookups waited out the inactive name.
  expect(client.stats().refreshes + client.stats().inactiveWaits).toBeGreaterThan(0);
  await settle(client, 20);
  expect(arrived.map((item) => item.sequence)).toEqual(Array.from({ length: migrationMessages }, (_, index) => index));
  expect(arrived.at(-1)?.by).toBe('new');
  // The indirect name that led to the member leads to its successor: its alias is on the new mailbox.
  await client.send('/svc/fleet', { sequence: migrationMessages });
  await settle(client, 5);
  expect(arrived.at(-1)).toEqual({ sequence: migrationMessages, by: 'new' });
}

const scenarios = { staleCache, revokedChannel, freshProcess, migration } as const;

/** Uncached Lookups per phase of the load-balancing scenario, and how many run at once. */
const balancingLookups = 40_000;
const balancingConcurrency = 32;

/** `lookups` Lookups of `name` from `client`, `balancingConcurrency` at a time; counts of each destination. */
async function lookupShares(client: Libfos, name: string, lookups: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let remaining = lookups;
  const worker = () =>
    client.dispatcher.spawnThread('lookups', async () => {
      while (remaining > 0) {
        remaining--;
        const result = await client.nameService.lookup(name);
        const next = result.type === 'indirect' ? result.next : result.name;
        counts.set(next, (counts.get(next) ?? 0) + 1);
      }
    });
  await Promise.all(Array.from({ length: balancingConcurrency }, worker));
  return counts;
}

function expectShares(counts: Map<string, number>, weights: Record<string, number>, lookups: number): void {
  const total = Object.values(weights).reduce((sum, weight) => sum + weight, 0);
  for (const [name, weight] of Object.entries(weights)) {
    const expected = (lookups * weight) / total;
    expect(Math.abs((counts.get(name) ?? 0) - expected), `${name}: ${counts.get(name) ?? 0} of ${lookups}, expected ${expected} ±10%`).toBeLessThanOrEqual(expected * 0.1);
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
    const { libfos, nameCapability } = await member(instance, 3, `/lb/${index}`, root, []);
    nameCapabilities.push(nameCapability);
    await libfos.aliasRegisterIndirect('/lb/svc', `/lb/${index}`, root, { weight: index });
  }
  const client = await libfosOn(instance, 1, 'client');
  expectShares(await lookupShares(client, '/lb/svc', balancingLookups), { '/lb/1': 1, '/lb/2': 2, '/lb/3': 3, '/lb/4': 4 }, balancingLookups);
  const moved = await libfosOn(instance, 1, 'lb-1-moved');
  const mailbox = await moved.createMailbox();
  await moved.aliasRegisterDirect('/lb/1', mailbox, nameCapabilities[0] as Capability);
  expect((await client.nameService.lookup('/lb/1')).type === 'direct' && (await client.nameService.lookup('/lb/1'))).toMatchObject({ location: mailbox.location });
  expectShares(await lookupShares(client, '/lb/svc', balancingLookups), { '/lb/1': 1 * 4, '/lb/2': 2 * 2, '/lb/3': 3 * 2, '/lb/4': 4 * 2 }, balancingLookups);
}

describe.each(['local', 'sim'] as const)('scenario loadBalancing through boot() on the %s fabric', (fabric) => {
  it('spreads 40,000 uncached Lookups by weight, then by weight × locality (fixed seed)', async () => {
    await withInstance(fabric === 'sim' ? { fabric: 'sim', cores: 4, seed: 4 } : { fabric: 'local', cores: 4 }, loadBalancing);
  }, 120_000);
});

describe.each(Object.entries(scenarios))('scenario %s through boot()', (_, scenario) => {
  it('holds on the local fabric', async () => {
    await withInstance({ fabric: 'local', cores: 4 }, scenario);
  });

  it('holds on the sim fabric for every seed', async () => {
    await runSeeds((seed) => withInstance({ fabric: 'sim', cores: 4, seed }, scenario), { seeds: 200, seedStart: 1 });
  }, 120_000);
});
