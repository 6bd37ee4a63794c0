// MemberRoster alone: members as plain processes of a local machine. The member side (leave and
// forget through the name service) is exercised by the fleets that use it, in @fos/fs and @fos/netstack.
import { CryptoRandom } from '@fos/base';
import { codeOf, codeOfCall } from '@fos/base/testing';
import { LocalFabric, Machine, mintCapability, type ProcessHandle, type SpawnOptions } from '@fos/microkernel';
import { afterEach, describe, expect, it } from 'vitest';
import { MemberRoster, type MemberRosterOptions } from './member-roster.js';

let machine: Machine | undefined;
afterEach(async () => {
  await machine?.shutdown();
  machine = undefined;
});

function roster(overrides: Partial<MemberRosterOptions> = {}) {
  machine = new Machine({ fabric: new LocalFabric({ cores: 4 }), log: () => undefined });
  const spawned: SpawnOptions[] = [];
  const spawner = {
    coreCount: machine.coreCount,
    spawn: (options: SpawnOptions): Promise<ProcessHandle> => {
      spawned.push(options);
      return machine!.spawn(options);
    },
  };
  const capability = mintCapability(new CryptoRandom());
  const members = new MemberRoster({
    spawner,
    capability,
    fleet: '/svc',
    description: 'a test fleet',
    processPrefix: 'svc',
    membersMax: 3,
    membersMaxName: 'svcMembersMax',
    // A module with no such entries: the helper processes fail to start, which the roster tolerates
    // for a crash's clean-up and reports for a shrink.
    module: new URL('./no-such-module.js', import.meta.url),
    leaveEntry: 'svcLeaveMember',
    forgetEntry: 'svcForgetMember',
    startMember: async (index) => {
      const handle = await spawner.spawn({ core: 1 + (index % 3), name: `svc-${index}`, function: () => ({}) });
      return { name: `/svc/${index}`, handle };
    },
    ...overrides,
  });
  return { members, capability, spawned };
}

describe('MemberRoster', () => {
  it('grows to its limit, one change at a time, only with the fleet capability', async () => {
    const { members, capability } = roster();
    await members.startMembers(1);
    expect(members.members).toEqual(['/svc/0']);
    expect(await Promise.all([members.growFleet(capability), members.growFleet(capability)])).toEqual([
      '/svc/1',
      '/svc/2',
    ]);
    expect(await codeOf(members.growFleet(capability))).toBe('LIMIT_EXCEEDED');
    await expect(members.growFleet(capability)).rejects.toThrow('svcMembersMax (3)');
    expect(await codeOf(members.growFleet(mintCapability(new CryptoRandom())))).toBe('PERMISSION_DENIED');
    expect(await codeOf(members.growFleet(42 as unknown as string))).toBe('BAD_REQUEST');
    expect(members.members).toEqual(['/svc/0', '/svc/1', '/svc/2']);
  });

  it('never shrinks below one member, and names a member it does not hold', async () => {
    const { members, capability, spawned } = roster();
    await members.startMembers(1);
    expect(await codeOf(members.shrinkFleet(capability))).toBe('BAD_REQUEST');
    await expect(members.shrinkFleet(capability)).rejects.toThrow('a test fleet keeps at least one member');
    expect(spawned).toHaveLength(1);
    expect(members.memberProcess('/svc/0').core).toBe(1);
    expect(codeOfCall(() => members.memberProcess('/svc/9'))).toBe('BAD_REQUEST');
    expect(() => members.memberProcess('/svc/9')).toThrow('is no running member (/svc/0)');
  });

  it('counts a member that exits unasked as a crash and asks a helper on its core to forget it', async () => {
    const { members, spawned } = roster();
    await members.startMembers(2);
    const victim = members.memberProcess('/svc/1');
    victim.kill();
    await victim.exited;
    await expect.poll(() => members.crashed).toBe(1);
    expect(members.members).toEqual(['/svc/0']);
    await expect.poll(() => spawned.length).toBe(3);
    expect(spawned[2]).toMatchObject({
      core: victim.core,
      name: 'svc-forget',
      entry: 'svcForgetMember',
      args: { member: '/svc/1', fleet: '/svc' },
    });
    // Once stopped (its machine shutting down), exits are no crashes.
    members.stop();
    members.memberProcess('/svc/0').kill();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(members.crashed).toBe(1);
  });

  it('kills the members it started when a later one fails to start', async () => {
    let started = 0;
    const handles: ProcessHandle[] = [];
    const { members } = roster({
      startMember: async (index) => {
        if (started++ === 2) throw new Error('member 2 does not start');
        const handle = await machine!.spawn({ core: 1, name: `svc-${index}`, function: () => ({}) });
        handles.push(handle);
        return { name: `/svc/${index}`, handle };
      },
    });
    await expect(members.startMembers(3)).rejects.toThrow('member 2 does not start');
    await Promise.all(handles.map((handle) => handle.exited));
    expect(handles).toHaveLength(2);
  });
});
