// The name-service fleet over the replicated store, through boot(): members on separate cores, each
// answering Lookups from its own replica; a registration made through one member is seen through every
// other, and every member holds the same table.
import { spawnLibfos, type Libfos } from '@fos/libfos-messaging';
import { seedsFromEnv } from '@fos/sim';
import { describe, expect, it } from 'vitest';
import { boot, type Instance } from './index.js';

async function fleetScenario(instance: Instance, members: number): Promise<void> {
  const service = instance.nameService;
  if (service === undefined) throw new Error('booted without a name service');
  expect(service.members).toHaveLength(members);
  // One client per core: each finds the member on its own core (ukNameServiceLookup prefers it).
  const clients: Libfos[] = [];
  for (let core = 0; core < instance.cores; core++) clients.push(await spawnLibfos(instance, core, `client-${core}`));
  for (const [index, client] of clients.entries()) {
    const mailbox = await client.createMailbox();
    client.serve(mailbox.location, { handler: (request) => ({ from: index, echo: request.body }) });
    await client.aliasRegisterDirect(`/fleet/${index}`, mailbox, service.rootCapability);
    await client.aliasRegisterIndirect('/fleet/all', `/fleet/${index}`, service.rootCapability);
  }
  // Every client reaches every other by name: each Lookup is answered by the member on its core.
  for (const client of clients) {
    for (let index = 0; index < clients.length; index++) expect((await client.call(`/fleet/${index}`, 'hi')).body).toEqual({ from: index, echo: 'hi' });
  }
  // The same table at every member: one listing through each client's member.
  const hashes = new Set<string>();
  for (const client of clients) hashes.add((await client.nameService.list({ capability: service.managementCapability, under: '/fleet/*' })).tableHash);
  expect(hashes.size).toBe(1);
  const listing = await clients[0]!.nameService.list({ capability: service.managementCapability, under: '/fleet/*' });
  expect(listing.names.find((entry) => entry.name === '/fleet/all')?.destinations).toHaveLength(clients.length);
}

describe('the name-service fleet through boot()', () => {
  it('serves one name space from 3 members on the local fabric', async () => {
    const instance = await boot({ fabric: 'local', cores: 4, nameServers: 3 });
    try {
      await fleetScenario(instance, 3);
    } finally {
      await instance.shutdown();
    }
  });

  it('serves one name space from 2 to 4 members on the sim fabric for every seed', async () => {
    for (const seed of seedsFromEnv({ seeds: 30, seedStart: 1 }).seeds) {
      const members = 2 + (seed % 3);
      const instance = await boot({ fabric: 'sim', cores: 4, seed, nameServers: members });
      try {
        await fleetScenario(instance, members);
      } catch (error) {
        throw new Error(`seed=${seed}: ${String(error)}`, { cause: error });
      } finally {
        await instance.shutdown();
      }
    }
  }, 120_000);
});

describe('growFleet and shrinkFleet (Table 4.3) through boot()', () => {
  async function growAndShrink(instance: Instance): Promise<void> {
    const service = instance.nameService;
    if (service === undefined) throw new Error('booted without a name service');
    const writer = await spawnLibfos(instance, 1, 'writer');
    const mailbox = await writer.createMailbox();
    writer.serve(mailbox.location, { handler: (request) => ({ echo: request.body }) });
    await writer.aliasRegisterDirect('/grow/before', mailbox, service.rootCapability);
    // Grow from 2 to 4: each newcomer gets the table and answers from its replica.
    await service.growFleet(service.managementCapability);
    await service.growFleet(service.managementCapability);
    expect(service.members).toHaveLength(4);
    const reader = await spawnLibfos(instance, 3, 'reader'); // core 3: the fourth member's core
    expect((await reader.call('/grow/before', 'hi')).body).toEqual({ echo: 'hi' });
    await writer.aliasRegisterDirect('/grow/after', mailbox, service.rootCapability);
    expect((await reader.call('/grow/after', 'again')).body).toEqual({ echo: 'again' });
    // Shrink to 2: the members started last leave; clients that used them find another member.
    await service.shrinkFleet(service.managementCapability);
    await service.shrinkFleet(service.managementCapability);
    expect(service.members).toHaveLength(2);
    await writer.aliasRegisterDirect('/grow/shrunk', mailbox, service.rootCapability);
    expect((await reader.nameService.lookup('/grow/shrunk')).type).toBe('direct');
    const hashes = new Set<string>();
    for (const client of [writer, reader]) hashes.add((await client.nameService.list({ capability: service.managementCapability })).tableHash);
    expect(hashes.size).toBe(1);
    // Never below one member, and only with the management capability.
    await service.shrinkFleet(service.managementCapability);
    await expect(service.shrinkFleet(service.managementCapability)).rejects.toThrow(/at least one member/);
    await expect(service.growFleet(service.rootCapability)).rejects.toThrow(/management capability/);
  }

  it('grows and shrinks a fleet on the local fabric', async () => {
    const instance = await boot({ fabric: 'local', cores: 4, nameServers: 2 });
    try {
      await growAndShrink(instance);
    } finally {
      await instance.shutdown();
    }
  });

  it('grows and shrinks a fleet on the sim fabric for every seed', async () => {
    for (const seed of seedsFromEnv({ seeds: 20, seedStart: 1 }).seeds) {
      const instance = await boot({ fabric: 'sim', cores: 4, seed, nameServers: 2 });
      try {
        await growAndShrink(instance);
      } catch (error) {
        throw new Error(`seed=${seed}: ${String(error)}`, { cause: error });
      } finally {
        await instance.shutdown();
      }
    }
  }, 120_000);

  it('refuses to grow a single member over a local store', async () => {
    const instance = await boot({ fabric: 'local', cores: 2 });
    try {
      const service = instance.nameService;
      await expect(service?.growFleet(service.managementCapability)).rejects.toThrow(/nameServers >= 2/);
    } finally {
      await instance.shutdown();
    }
  });
});
