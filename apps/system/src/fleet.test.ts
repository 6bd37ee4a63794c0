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
