// The name-service fleet over the replicated store, through boot(): members on separate cores, each
// answering Lookups from its own replica; a registration made through one member is seen through every
// other, and every member holds the same table.
import { nameServiceApiErrors } from '@fos/libfos-messaging';
import { isFosError, messageBytesMax } from '@fos/base';
import { runSeeds, tierCount } from '@fos/sim';
import { describe, expect, it } from 'vitest';
import type { SimFabric } from '@fos/microkernel';
import type { Instance } from './index.js';
import { RemoteAgent } from './testing.js';
import { testFabrics, withInstance } from './testing.js';

/** Seeds of each sweep on the sim fabric, by test tier (`pnpm test` / `pnpm test:long`). */
const nameSpaceSeeds = tierCount({ fast: 30, long: 300 });
const growShrinkSeeds = tierCount({ fast: 20, long: 300 });
const largeTableSeeds = tierCount({ fast: 10, long: 100 });
/** What bounds a hang of one sweep (it grows with the tier's seeds). */
const sweepTimeoutMs = tierCount({ fast: 120_000, long: 1_200_000 });

async function fleetScenario(instance: Instance, members: number): Promise<void> {
  const service = instance.nameService;
  if (service === undefined) throw new Error('booted without a name service');
  expect(service.members).toHaveLength(members);
  // One client per core (an agent, @fos/system/testing): each finds the member on its own core
  // (ukNameServiceLookup prefers it).
  const clients: RemoteAgent[] = [];
  for (let core = 0; core < instance.cores; core++)
    clients.push(await RemoteAgent.spawn(instance, core, `client-${core}`));
  for (const [index, client] of clients.entries()) {
    const mailbox = await client.createMailbox(String(index));
    await client.aliasRegisterDirect(`/fleet/${index}`, mailbox, service.rootCapability);
    await client.aliasRegisterIndirect('/fleet/all', `/fleet/${index}`, service.rootCapability);
  }
  // Every client reaches every other by name: each Lookup is answered by the member on its core.
  for (const client of clients) {
    for (let index = 0; index < clients.length; index++)
      expect(await client.call(`/fleet/${index}`, 'hi')).toEqual({ from: String(index), echo: 'hi' });
  }
  // The same table at every member: one listing through each client's member.
  const hashes = new Set<string>();
  for (const client of clients) hashes.add((await client.list(service.managementCapability, '/fleet/*')).tableHash);
  expect(hashes.size).toBe(1);
  const listing = await clients[0]!.list(service.managementCapability, '/fleet/*');
  expect(listing.names.find((entry) => entry.name === '/fleet/all')?.destinations).toHaveLength(clients.length);
}

describe.each(testFabrics)('the name-service fleet through boot() on the %s fabric', (fabric) => {
  it(
    fabric === 'sim'
      ? `serves one name space from 2 to 4 members for every seed (${nameSpaceSeeds})`
      : 'serves one name space from 3 members',
    async () => {
      if (fabric === 'sim') {
        await runSeeds(
          (seed) =>
            withInstance({ fabric, cores: 4, seed, nameServers: 2 + (seed % 3) }, (instance) =>
              fleetScenario(instance, 2 + (seed % 3)),
            ),
          { seeds: nameSpaceSeeds, seedStart: 1 },
        );
      } else {
        await withInstance({ fabric, cores: 4, nameServers: 3 }, (instance) => fleetScenario(instance, 3));
      }
    },
    sweepTimeoutMs,
  );
});

/**
 * growFleet and shrinkFleet (Table 4.3) with clients on agents: a fleet of 2 grows to 4 (each newcomer
 * gets the table and answers from its replica, each core's client finds the member on its core) and
 * shrinks to 1; never below one member, and only with the management capability.
 */
async function growAndShrink(instance: Instance): Promise<void> {
  const service = instance.nameService;
  if (service === undefined) throw new Error('booted without a name service');
  const clients: RemoteAgent[] = [];
  for (let core = 0; core < instance.cores; core++)
    clients.push(await RemoteAgent.spawn(instance, core, `client-${core}`));
  const writer = clients[1]!;
  const reader = clients[3]!; // core 3: the fourth member's core
  const mailbox = await writer.createMailbox('writer');
  await writer.aliasRegisterDirect('/grow/before', mailbox, service.rootCapability);
  await service.growFleet(service.managementCapability);
  await service.growFleet(service.managementCapability);
  expect(service.members.map((location) => location.core)).toEqual([0, 1, 2, 3]);
  expect(await reader.call('/grow/before', 'hi')).toEqual({ from: 'writer', echo: 'hi' });
  await writer.aliasRegisterDirect('/grow/after', mailbox, service.rootCapability);
  expect(await reader.call('/grow/after', 'again')).toEqual({ from: 'writer', echo: 'again' });
  // Each core's client is answered by the member on its core; all hold one table.
  const listings = [];
  for (const client of clients) listings.push(await client.list(service.managementCapability, '/grow/*'));
  expect(listings.map((listing) => listing.member)).toEqual(['ns00', 'ns01', 'ns02', 'ns03']);
  expect(new Set(listings.map((listing) => listing.tableHash)).size).toBe(1);
  // Any one member, asked by name from the booter, with no process of the test's own on its core.
  for (const member of ['ns00', 'ns03']) {
    const listing = await service.listMember(service.managementCapability, member, { under: '/grow/*' });
    expect(listing).toEqual({ ...listings[0]!, member });
  }
  await expect(service.listMember(service.managementCapability, 'ns09')).rejects.toThrow(/BAD_REQUEST: .*ns09/);
  await expect(service.listMember(service.rootCapability, 'ns00')).rejects.toThrow(/PERMISSION_DENIED/);
  // Shrink to 2: the members started last leave; clients that used them find another member.
  await service.shrinkFleet(service.managementCapability);
  await service.shrinkFleet(service.managementCapability);
  expect(service.members).toHaveLength(2);
  await writer.aliasRegisterDirect('/grow/shrunk', mailbox, service.rootCapability);
  expect((await reader.lookup('/grow/shrunk')).type).toBe('direct');
  const after = [await writer.list(service.managementCapability), await reader.list(service.managementCapability)];
  expect(after[1]!.member).toMatch(/^ns0[01]$/);
  expect(new Set(after.map((listing) => listing.tableHash)).size).toBe(1);
  // Never below one member, and only with the management capability.
  await service.shrinkFleet(service.managementCapability);
  await expect(service.shrinkFleet(service.managementCapability)).rejects.toThrow(/at least one member/);
  await expect(service.growFleet(service.rootCapability)).rejects.toThrow(/management capability/);
  expect(await reader.call('/grow/shrunk', 'last')).toEqual({ from: 'writer', echo: 'last' });
}

describe.each(testFabrics)(
  'growFleet and shrinkFleet (Table 4.3) through boot() and agents on the %s fabric',
  (fabric) => {
    it(
      fabric === 'sim'
        ? `grows a fleet of 2 to 4 and shrinks it to 1 for every seed (${growShrinkSeeds})`
        : 'grows a fleet of 2 to 4 and shrinks it to 1',
      async () => {
        if (fabric === 'sim')
          await runSeeds((seed) => withInstance({ fabric, cores: 4, seed, nameServers: 2 }, growAndShrink), {
            seeds: growShrinkSeeds,
            seedStart: 1,
          });
        else await withInstance({ fabric, cores: 4, nameServers: 2 }, growAndShrink);
      },
      sweepTimeoutMs,
    );
  },
);

/**
 * A newcomer joins a fleet whose name table is larger than one message: 800 entries whose names alone
 * are beyond `messageBytesMax`, so the table travels in parts; every member then answers for them.
 */
async function growOverLargeTable(instance: Instance): Promise<void> {
  const service = instance.nameService;
  if (service === undefined) throw new Error('booted without a name service');
  const writer = await RemoteAgent.spawn(instance, 0, 'writer');
  const names: string[] = [];
  for (let box = 0; box < 4; box++) {
    const mailbox = await writer.createQueueMailbox();
    const batch = Array.from(
      { length: 200 },
      (_, index) => `/big/mailbox-${box}/${'x'.repeat(56)}-${index}/${'y'.repeat(60)}`,
    );
    expect(await writer.aliasRegisterDirectMany(batch, mailbox, service.rootCapability)).toBe(batch.length);
    names.push(...batch);
  }
  expect(names.join('').length).toBeGreaterThan(messageBytesMax);
  await service.growFleet(service.managementCapability);
  expect(service.members).toHaveLength(3);
  const readers = [
    writer,
    await RemoteAgent.spawn(instance, 1, 'reader-1'),
    await RemoteAgent.spawn(instance, 2, 'reader-2'),
  ];
  const listings = [];
  for (const reader of readers) {
    for (const name of [names[0]!, names[399]!, names[799]!]) expect((await reader.lookup(name)).type).toBe('direct');
    listings.push(await reader.list(service.managementCapability, '/big/mailbox-3/*'));
  }
  // Each core's reader is answered by the member on its core (the newcomer on core 2); one table.
  expect(listings.map((listing) => listing.member)).toEqual(['ns00', 'ns01', 'ns02']);
  expect(new Set(listings.map((listing) => listing.tableHash)).size).toBe(1);
}

describe.each(testFabrics)(
  'growFleet over a name table larger than messageBytesMax (the table travels in parts) on the %s fabric',
  (fabric) => {
    it(
      fabric === 'sim'
        ? `grows a fleet of 2 to 3 over 800 names for every seed (${largeTableSeeds})`
        : 'grows a fleet of 2 to 3 over 800 names',
      async () => {
        if (fabric === 'sim')
          await runSeeds((seed) => withInstance({ fabric, cores: 3, seed, nameServers: 2 }, growOverLargeTable), {
            seeds: largeTableSeeds,
            seedStart: 1,
          });
        else await withInstance({ fabric, cores: 3, nameServers: 2 }, growOverLargeTable);
      },
      sweepTimeoutMs,
    );
  },
);

describe('growFleet through boot() refuses a single member', () => {
  it('refuses to grow a single member over a local store', async () => {
    await withInstance({ fabric: 'local', cores: 2 }, async (instance) => {
      const service = instance.nameService;
      await expect(service?.growFleet(service.managementCapability)).rejects.toThrow(/nameServers >= 2/);
    });
  });
});

const clientsCount = 8;
const operationsPerClient = 12;

/**
 * 4 members; 8 clients (agents, @fos/system/testing) register, unregister and look up while the
 * fleet grows to 6 and shrinks to 3. The agents are spawned before the traffic starts.
 */
async function trafficDuringChanges(instance: Instance): Promise<void> {
  const service = instance.nameService;
  if (service === undefined) throw new Error('booted without a name service');
  const unexpected: string[] = [];
  let changing = false;
  let duringChanges = 0;
  const allowed = (operation: keyof typeof nameServiceApiErrors, error: unknown): boolean =>
    isFosError(error) &&
    ((nameServiceApiErrors[operation] as readonly string[]).includes(error.code) || error.code === 'TIMEOUT');
  const agents: RemoteAgent[] = [];
  for (let index = 0; index < clientsCount; index++)
    agents.push(await RemoteAgent.spawn(instance, 6 + (index % 2), `client-${index}`));
  const client = async (index: number): Promise<{ agent: RemoteAgent; held: string[] }> => {
    const agent = agents[index]!;
    const mailbox = await agent.createMailbox();
    const held: string[] = [];
    for (let step = 0; step < operationsPerClient; step++) {
      const name = `/load/c${index}/n${step}`;
      try {
        const capability = await agent.aliasRegisterDirect(name, mailbox, service.rootCapability);
        held.push(name);
        if (changing) duringChanges++;
        // Acknowledged: every member must know it, whichever this client reaches now.
        const found = await agent.lookup(name).catch((error: unknown) => error);
        if (isFosError(found) && found.code === 'NO_SUCH_NAME')
          unexpected.push(`${name} acknowledged, then NO_SUCH_NAME`);
        if (step % 3 === 2) {
          await agent.unregisterDirect(name, mailbox.location, capability);
          held.pop();
        }
      } catch (error) {
        if (!allowed('register', error) && !allowed('unregister', error) && !allowed('lookup', error))
          unexpected.push(`${name}: ${String(error)}`);
      }
    }
    return { agent, held };
  };
  const changes = (async () => {
    changing = true;
    await service.growFleet(service.managementCapability);
    await service.growFleet(service.managementCapability);
    for (let index = 0; index < 3; index++) await service.shrinkFleet(service.managementCapability);
    changing = false;
  })();
  const results = await Promise.all(Array.from({ length: clientsCount }, (_, index) => client(index)));
  await changes;
  expect(unexpected).toEqual([]);
  expect(duringChanges, 'registrations acknowledged while the fleet changed').toBeGreaterThan(0);
  expect(service.members).toHaveLength(3);
  // No acknowledged registration is lost, and every member holds the same table.
  const checker = results[0]!.agent;
  for (const { held } of results)
    for (const name of held) expect((await checker.lookup(name)).type, name).toBe('direct');
  const hashes = new Set<string>();
  for (let core = 0; core < 3; core++) {
    const probe = await RemoteAgent.spawn(instance, core, `probe-${core}`);
    hashes.add((await probe.list(service.managementCapability)).tableHash);
  }
  expect(hashes.size).toBe(1);
}

describe.each(testFabrics)('the fleet changes under traffic on the %s fabric', (fabric) => {
  const simSeeds = tierCount({ fast: 10, long: 200 });

  it(
    fabric === 'sim'
      ? `keeps every acknowledged registration for every seed (${simSeeds})`
      : 'keeps every acknowledged registration',
    async () => {
      if (fabric === 'sim')
        await runSeeds((seed) => withInstance({ fabric, cores: 8, seed, nameServers: 4 }, trafficDuringChanges), {
          seeds: simSeeds,
          seedStart: 1,
        });
      else await withInstance({ fabric, cores: 8, nameServers: 4 }, trafficDuringChanges);
    },
    sweepTimeoutMs,
  );
});

describe('a seed of the sim fabric through boot()', () => {
  it(
    'replays the traffic scenario exactly: the same deliveries in the same order (trace hash), run after run',
    async () => {
      const hashes: string[] = [];
      for (let run = 0; run < 2; run++) {
        await withInstance({ fabric: 'sim', cores: 8, seed: 9, nameServers: 4 }, async (instance) => {
          await trafficDuringChanges(instance);
          hashes.push((instance.fabric as SimFabric).network.trace.hash());
        });
        // Another instance on a real fabric in between leaves its own work on the event loop.
        if (run === 0) await withInstance({ fabric: 'local', cores: 2 }, async () => undefined);
      }
      expect(hashes[1]).toBe(hashes[0]);
    },
    sweepTimeoutMs,
  );
});
