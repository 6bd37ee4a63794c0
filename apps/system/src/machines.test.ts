// One instance across machines (thesis §2.2, §5.1): two machines, each with its proxy, joined by a
// link; the name service is one fleet with members on both machines. On the local fabric the link is
// in memory; on the sim fabric both machines live in one SimWorld and the link is a stream of its
// network, so one seed replays the whole two-machine run (SIM_SEEDS, SIM_SEED=N).
import { codeOf } from '@fos/base/testing';
import { SimWorld, type ProcessContext } from '@fos/microkernel';
import { linkPair, simLinkPair, startProxy, type ByteLink, type Proxy } from '@fos/proxy';
import { runSeeds, tierCount } from '@fos/sim';
import { afterEach, describe, expect, it } from 'vitest';
import { boot, type BootOptions, type Instance } from './index.js';
import { RemoteAgent, rootOf } from './testing.js';

const instances: Instance[] = [];
afterEach(async () => {
  for (const instance of instances.splice(0).reverse()) await instance.shutdown();
});

async function proxyOf(instance: Instance): Promise<Proxy> {
  let context: ProcessContext | undefined;
  await instance.spawn({ core: instance.cores - 1, name: 'proxy', function: (c) => void (context = c) });
  return startProxy(context!, { kernelCapability: instance.kernelCapability });
}

/** Boots alpha (two name-service members) and beta (none of its own yet), joined by their proxies. */
async function twoMachines(
  options: (machine: string) => BootOptions,
  link: () => [ByteLink, ByteLink],
): Promise<{ alpha: Instance; beta: Instance; toAlpha: ByteLink }> {
  const alpha = await boot({ ...options('alpha'), nameServers: 2 });
  instances.push(alpha);
  const beta = await boot({ ...options('beta'), nameServers: 0 });
  instances.push(beta);
  const [toBeta, toAlpha] = link();
  const [alphaProxy, betaProxy] = await Promise.all([proxyOf(alpha), proxyOf(beta)]);
  await Promise.all([alphaProxy.addLink(toBeta), betaProxy.addLink(toAlpha)]);
  return { alpha, beta, toAlpha };
}

/** Register on one machine, look up and send from the other, both ways; then one machine vanishes. */
async function acrossMachines(alpha: Instance, beta: Instance, toAlpha: ByteLink): Promise<void> {
  const fleet = alpha.nameService!;
  await fleet.growFleet(fleet.managementCapability, { machine: beta.machine });
  expect(fleet.members.map((member) => member.machine)).toEqual(['alpha', 'alpha', 'beta']);
  const root = rootOf(alpha);
  const server = await RemoteAgent.spawn(beta, 1, 'server');
  const mailbox = await server.createMailbox('/svc/on-beta');
  await server.aliasRegisterDirect('/svc/on-beta', mailbox, root);
  const client = await RemoteAgent.spawn(alpha, 1, 'client');
  expect((await client.aliasResolve('/svc/on-beta')).location.machine).toBe('beta');
  await client.send('/svc/on-beta', 'across');
  await client.settle();
  expect(await server.received()).toEqual(['/svc/on-beta:"across"']);
  // Every member holds the same table.
  const tables = await Promise.all(
    ['ns00', 'ns01', 'ns02'].map((member) => fleet.listMember(fleet.managementCapability, member)),
  );
  expect(new Set(tables.map((table) => table.tableHash)).size).toBe(1);
  // The other way: a server on alpha, registered through alpha's members, reached from beta.
  const home = await RemoteAgent.spawn(alpha, 2, 'home');
  const homeBox = await home.createMailbox('/svc/on-alpha');
  await home.aliasRegisterDirect('/svc/on-alpha', homeBox, root);
  const visitor = await RemoteAgent.spawn(beta, 2, 'visitor');
  await visitor.send('/svc/on-alpha', 'back');
  await visitor.settle();
  expect(await home.received()).toEqual(['/svc/on-alpha:"back"']);
  // Beta vanishes: alpha's sends to it fail at once, nothing hangs; alpha's own names still work.
  toAlpha.close('machine beta was killed');
  expect(await codeOf(client.send('/svc/on-beta', 'lost'))).toBe('UNREACHABLE');
  await client.send('/svc/on-alpha', 'local');
  await client.settle();
  expect(await home.received()).toEqual(['/svc/on-alpha:"back"', '/svc/on-alpha:"local"']);
}

const simSeeds = tierCount({ fast: 200, long: 2_000 });
const sweepTimeoutMs = tierCount({ fast: 240_000, long: 2_400_000 });

describe('two machines, one name space', () => {
  it('on the local fabric, joined by an in-memory link', async () => {
    const { alpha, beta, toAlpha } = await twoMachines(
      (machine) => ({ fabric: 'local', machine }),
      () => linkPair(['alpha', 'beta']),
    );
    await acrossMachines(alpha, beta, toAlpha);
  }, 60_000);

  /** One seeded run; the hash of its whole trace. */
  async function simRun(seed: number): Promise<string> {
    const world = new SimWorld({ seed });
    try {
      const { alpha, beta, toAlpha } = await twoMachines(
        (machine) => ({ fabric: 'sim', world, machine }),
        () => simLinkPair(world, ['alpha', 'beta']),
      );
      await acrossMachines(alpha, beta, toAlpha);
      return world.network.trace.hash();
    } finally {
      for (const instance of instances.splice(0).reverse()) await instance.shutdown();
      world.close();
    }
  }

  it(
    'on the sim fabric, both machines in one seeded world, over many seeds',
    async () => {
      await runSeeds(async (seed) => void (await simRun(seed)), { seeds: simSeeds, seedStart: 1 });
    },
    sweepTimeoutMs,
  );

  it('replays a two-machine seed exactly (the same trace hash twice)', async () => {
    const seed = Number(process.env.SIM_SEED ?? 17);
    expect(await simRun(seed)).toBe(await simRun(seed));
  }, 60_000);
});
