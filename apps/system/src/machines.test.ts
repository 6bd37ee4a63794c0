// One instance across machines (thesis §2.2, §5.1): two machines in one OS process, each with its
// proxy, joined by an in-memory link; the name service is one fleet with a member on each machine.
import type { ProcessContext } from '@fos/microkernel';
import { linkPair, startProxy, type Proxy } from '@fos/proxy';
import { codeOf } from '@fos/base/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { boot, type Instance } from './index.js';
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

describe('two machines, one name space', () => {
  it('registers on one machine, looks up and sends from the other', async () => {
    const alpha = await boot({ fabric: 'local', machine: 'alpha', nameServers: 2 });
    instances.push(alpha);
    const beta = await boot({ fabric: 'local', machine: 'beta', nameServers: 0 });
    instances.push(beta);
    const [toBeta, toAlpha] = linkPair(['alpha', 'beta']);
    const [alphaProxy, betaProxy] = await Promise.all([proxyOf(alpha), proxyOf(beta)]);
    await Promise.all([alphaProxy.addLink(toBeta), betaProxy.addLink(toAlpha)]);
    const fleet = alpha.nameService!;
    await fleet.growFleet(fleet.managementCapability, { machine: beta.machine });
    expect(fleet.members.map((member) => member.machine)).toEqual(['alpha', 'alpha', 'beta']);
    const root = rootOf(alpha);
    const server = await RemoteAgent.spawn(beta, 1, 'server');
    const mailbox = await server.createMailbox('/svc/on-beta');
    await server.aliasRegisterDirect('/svc/on-beta', mailbox, root);
    const client = await RemoteAgent.spawn(alpha, 1, 'client');
    const resolved = await client.aliasResolve('/svc/on-beta');
    expect(resolved.location.machine).toBe('beta');
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
  });
});
