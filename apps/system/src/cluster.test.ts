// Machines that join a running instance at run time (§7.4): founded by one machine that listens, joined
// by others that dial any machine of it, over real TLS on loopback and over a SimWorld's network.
import { isFosError } from '@fos/base';
import { codeOf } from '@fos/base/testing';
import { SimWorld } from '@fos/microkernel';
import { parseClusterKey, newClusterKeyText, SimTransport, type ProxyTransport } from '@fos/proxy';
import { runSeeds, tierCount } from '@fos/sim';
import { afterEach, describe, expect, it } from 'vitest';
import { boot, type BootOptions, type Instance } from './index.js';
import { RemoteAgent, rootOf } from './testing.js';

const instances: Instance[] = [];
afterEach(async () => {
  for (const instance of instances.splice(0).reverse()) await instance.shutdown();
});

async function started(options: BootOptions): Promise<Instance> {
  const instance = await boot(options);
  instances.push(instance);
  return instance;
}

function machinesOf(instance: Instance): string[] {
  return instance
    .cluster!.machines()
    .map((info) => info.machine)
    .sort();
}

/**
 * Waits until every member of `machines` holds one table: a write is acknowledged once committed, and
 * the other replicas apply the commit as its message reaches them.
 */
async function converged(machines: readonly Instance[], waiter: RemoteAgent): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if ((await tableHashes(machines)).size === 1) return;
    await waiter.settle(5);
  }
  throw new Error(`the members of ${machines.map((machine) => machine.machine.name).join(', ')} never agreed`);
}

/** The replica of every member of every machine: one table hash. */
async function tableHashes(machines: readonly Instance[]): Promise<Set<string>> {
  const hashes = new Set<string>();
  for (const instance of machines) {
    const fleet = instance.nameService!;
    for (const member of fleet.memberNames)
      hashes.add((await fleet.listMember(fleet.managementCapability, member)).tableHash);
  }
  return hashes;
}

/**
 * alpha founds the instance, beta joins through alpha, gamma through beta (and learns alpha from it);
 * names registered on one machine are reached from the others; gamma leaves cleanly.
 */
async function threeMachines(options: (machine: string) => BootOptions, addressOf: (i: Instance) => string) {
  const alpha = await started({ ...options('alpha') });
  const beta = await started({ ...options('beta'), join: addressOf(alpha) });
  const gamma = await started({ ...options('gamma'), join: addressOf(beta) });
  for (const instance of [alpha, beta, gamma]) expect(machinesOf(instance)).toEqual(['alpha', 'beta', 'gamma']);
  expect(gamma.nameService!.memberNames).toEqual(['gamma-ns00']);

  const root = rootOf(alpha);
  const server = await RemoteAgent.spawn(gamma, 1, 'server');
  const mailbox = await server.createMailbox('/svc/on-gamma');
  await server.aliasRegisterDirect('/svc/on-gamma', mailbox, root);
  const client = await RemoteAgent.spawn(alpha, 1, 'client');
  await client.send('/svc/on-gamma', 'hello gamma');
  const visitor = await RemoteAgent.spawn(beta, 1, 'visitor');
  await visitor.send('/svc/on-gamma', 'hello from beta');
  await client.settle();
  expect((await server.received()).sort()).toEqual(['/svc/on-gamma:"hello from beta"', '/svc/on-gamma:"hello gamma"']);
  // Every machine's proxy has its global name; every member holds the same table.
  const proxies = await client.list(alpha.nameService!.managementCapability, '/sys/proxy/*');
  expect(proxies.names.map((entry) => entry.name)).toEqual(['/sys/proxy/alpha', '/sys/proxy/beta', '/sys/proxy/gamma']);
  expect((await tableHashes([alpha, beta, gamma])).size).toBe(1);

  // gamma leaves cleanly: its names go first, then its member; the others go on with one table.
  await gamma.shutdown();
  await converged([alpha, beta], client);
  const after = await client.list(alpha.nameService!.managementCapability);
  const names = after.names.map((entry) => entry.name);
  expect(names).not.toContain('/sys/proxy/gamma');
  expect(names).not.toContain('/svc/on-gamma');
  expect(names).toContain('/sys/proxy/beta');
  expect(await codeOf(client.send('/svc/on-gamma', 'gone'))).toMatch(/NO_SUCH_NAME|UNREACHABLE/);
  expect(await codeOf(visitor.lookup('/svc/on-gamma'))).toBe('NO_SUCH_NAME');
  expect(machinesOf(alpha)).toEqual(['alpha', 'beta']);
  return { alpha, beta };
}

describe('machines join a running instance', () => {
  it('over TLS on loopback: join through any machine, reach names everywhere, leave cleanly', async () => {
    const clusterKey = parseClusterKey(newClusterKeyText());
    const { alpha } = await threeMachines(
      (machine) => ({ fabric: 'local', machine, listen: '127.0.0.1:0', clusterKey }),
      (instance) => instance.cluster!.listen!,
    );
    // A machine named like one of the instance is refused; so is one without the key.
    expect(
      await codeOf(
        boot({ fabric: 'local', machine: 'beta', join: alpha.cluster!.listen!, clusterKey, cores: 2 }).then((i) => {
          instances.push(i);
        }),
      ),
    ).toBe('CONFLICT');
    const otherKey = parseClusterKey(newClusterKeyText());
    expect(
      await codeOf(boot({ fabric: 'local', machine: 'delta', join: alpha.cluster!.listen!, clusterKey: otherKey })),
    ).toBe('UNREACHABLE');
    expect(machinesOf(alpha)).toEqual(['alpha', 'beta']);
  }, 60_000);

  it('refuses cluster options it cannot honour', async () => {
    const clusterKey = parseClusterKey(newClusterKeyText());
    expect(await codeOf(boot({ fabric: 'local', listen: '127.0.0.1:0', clusterKey }))).toBe('BAD_REQUEST');
    expect(await codeOf(boot({ fabric: 'local', machine: 'a', listen: '127.0.0.1:0' }))).toBe('BAD_REQUEST');
    expect(await codeOf(boot({ fabric: 'worker', machine: 'a', listen: '127.0.0.1:0', clusterKey }))).toBe(
      'BAD_REQUEST',
    );
    expect(
      await codeOf(boot({ fabric: 'local', machine: 'a', listen: '127.0.0.1:0', clusterKey, nameServers: 0 })),
    ).toBe('BAD_REQUEST');
    expect(await codeOf(boot({ fabric: 'local', machine: 'a'.repeat(25), listen: '127.0.0.1:0', clusterKey }))).toBe(
      'BAD_REQUEST',
    );
    // Nothing listens there.
    expect(await codeOf(boot({ fabric: 'local', machine: 'a', join: '127.0.0.1:1', clusterKey }))).toBe('UNREACHABLE');
  });

  const simSeeds = tierCount({ fast: 50, long: 1_000 });
  it(
    'in a SimWorld over many seeds, replaying a seed exactly',
    async () => {
      async function run(seed: number): Promise<string> {
        const world = new SimWorld({ seed });
        const transport: ProxyTransport = new SimTransport(world);
        try {
          await threeMachines(
            (machine) => ({ fabric: 'sim', world, machine, listen: machine, transport }),
            (instance) => instance.cluster!.listen!,
          );
          return world.network.trace.hash();
        } finally {
          for (const instance of instances.splice(0).reverse()) await instance.shutdown();
          world.close();
        }
      }
      await runSeeds(async (seed) => void (await run(seed)), { seeds: simSeeds, seedStart: 1 });
      const seed = Number(process.env.SIM_SEED ?? 5);
      expect(await run(seed)).toBe(await run(seed));
    },
    tierCount({ fast: 240_000, long: 2_400_000 }),
  );
});

const clientsCount = 8;
const operationsPerClient = 12;

/**
 * alpha, beta and gamma, 8 clients spread over them registering, looking up and unregistering, while
 * delta joins (through beta) and gamma leaves. Nothing acknowledged on a machine that stays is lost,
 * what gamma held is gone with it, and every member that stays holds one table.
 */
async function joinAndLeaveUnderTraffic(options: (machine: string) => BootOptions, addressOf: (i: Instance) => string) {
  const alpha = await started(options('alpha'));
  const beta = await started({ ...options('beta'), join: addressOf(alpha) });
  const gamma = await started({ ...options('gamma'), join: addressOf(alpha) });
  const root = rootOf(alpha);
  const management = alpha.nameService!.managementCapability;
  const homes = [alpha, beta, gamma];
  const agents: RemoteAgent[] = [];
  for (let index = 0; index < clientsCount; index++)
    agents.push(await RemoteAgent.spawn(homes[index % 3]!, 1 + (index % 2), `client-${index}`));
  const unexpected: string[] = [];
  let gammaLeft = false;
  let duringChanges = 0;
  let changing = true;
  const client = async (index: number): Promise<string[]> => {
    const agent = agents[index]!;
    const onGamma = index % 3 === 2;
    const held: string[] = [];
    try {
      const mailbox = await agent.createMailbox();
      for (let step = 0; step < operationsPerClient && !(onGamma && gammaLeft); step++) {
        const name = `/load/c${index}/n${step}`;
        try {
          const capability = await agent.aliasRegisterDirect(name, mailbox, root);
          held.push(name);
          if (changing) duringChanges++;
          const found = await agent.lookup(name).catch((error: unknown) => error);
          if (isFosError(found) && found.code === 'NO_SUCH_NAME' && !(onGamma && gammaLeft))
            unexpected.push(`${name} acknowledged, then NO_SUCH_NAME`);
          if (step % 3 === 2) {
            await agent.unregisterDirect(name, mailbox.location, capability);
            held.pop();
          }
        } catch (error) {
          // A client of the machine that leaves may meet its end; elsewhere a write may time out or
          // find a name taken meanwhile, nothing else.
          if (onGamma && gammaLeft) break;
          if (!isFosError(error) || !['TIMEOUT', 'NAME_EXISTS', 'NO_SUCH_NAME'].includes(error.code))
            unexpected.push(`${name}: ${String(error)}`);
        }
      }
    } catch (error) {
      if (!(onGamma && gammaLeft)) unexpected.push(`client-${index}: ${String(error)}`);
    }
    return onGamma ? [] : held;
  };
  const changes = (async () => {
    const delta = await started({ ...options('delta'), join: addressOf(beta) });
    gammaLeft = true;
    await gamma.shutdown();
    changing = false;
    return delta;
  })();
  const held = (await Promise.all(Array.from({ length: clientsCount }, (_, index) => client(index)))).flat();
  const delta = await changes;
  expect(unexpected).toEqual([]);
  expect(duringChanges, 'registrations acknowledged while machines joined and left').toBeGreaterThan(0);
  expect(machinesOf(alpha)).toEqual(['alpha', 'beta', 'delta']);
  const checker = await RemoteAgent.spawn(delta, 1, 'checker');
  await converged([alpha, beta, delta], checker);
  for (const name of held) expect((await checker.lookup(name)).type, name).toBe('direct');
  const listed = (await checker.list(management)).names.map((entry) => entry.name);
  expect(
    listed.filter((name) => /^\/load\/c(2|5)\//.test(name)),
    'names of the clients on gamma',
  ).toEqual([]);
  expect(listed).not.toContain('/sys/proxy/gamma');
}

describe('machines join and leave under traffic', () => {
  it('over TLS on loopback', async () => {
    const clusterKey = parseClusterKey(newClusterKeyText());
    await joinAndLeaveUnderTraffic(
      (machine) => ({ fabric: 'local', machine, listen: '127.0.0.1:0', clusterKey }),
      (instance) => instance.cluster!.listen!,
    );
  }, 120_000);

  const trafficSeeds = tierCount({ fast: 20, long: 500 });
  it(
    `in a SimWorld for every seed (${trafficSeeds})`,
    async () => {
      await runSeeds(
        async (seed) => {
          const world = new SimWorld({ seed });
          const transport = new SimTransport(world);
          try {
            await joinAndLeaveUnderTraffic(
              (machine) => ({ fabric: 'sim', world, machine, listen: machine, transport }),
              (instance) => instance.cluster!.listen!,
            );
          } finally {
            for (const instance of instances.splice(0).reverse()) await instance.shutdown();
            world.close();
          }
        },
        { seeds: trafficSeeds, seedStart: 1 },
      );
    },
    tierCount({ fast: 300_000, long: 3_000_000 }),
  );
});
