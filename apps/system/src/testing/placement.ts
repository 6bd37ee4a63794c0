// Where a test's processes run: the same scenario on the cores of one machine or spread over the
// machines of a multi-machine instance. A scenario names slots (1, 2, 3, ...); a placement says which
// machine and core each slot is, and what that means for Lookup locality.
import { FosError } from '@fos/base';
import type { Capability } from '@fos/microkernel';
import type { Instance } from '../boot.js';
import { rootOf } from './instance.js';
import { RemoteAgent, type AgentHost } from './remote-agent.js';

/** Where one slot of a scenario runs. */
export interface PlacedSlot {
  readonly instance: AgentHost;
  readonly core: number;
}

/** The machines and cores of a scenario's slots. */
export interface Placement {
  /** The root namespace capability of the instance (every machine's name service holds the same). */
  readonly root: Capability;
  /** The management capability of the instance's name service. */
  readonly management: Capability;
  /** How many machines the slots are spread over. */
  readonly machines: number;
  /** Where slot `slot` (1-based) runs. */
  at(slot: number): PlacedSlot;
}

/** Slot i is core i of `instance` (modulo its cores). */
export function onOneMachine(instance: Instance): Placement {
  const service = instance.nameService;
  return {
    root: rootOf(instance),
    management: service!.managementCapability,
    machines: 1,
    at: (slot) => ({ instance, core: slot % instance.cores }),
  };
}

/**
 * Slot i is core 1 of machine i (modulo the machines): every slot on a machine of its own, as far as
 * there are machines. The machines must be one instance (booted with `listen` / `join`); a machine may
 * be another OS process's, reached with {@link peerMachine}, when `capabilities` come from a machine
 * of the instance booted here.
 */
export function onMachines(
  machines: readonly AgentHost[],
  capabilities: { root: Capability; management: Capability } = capabilitiesOf(machines[0] as Instance),
): Placement {
  if (machines.length === 0) throw new FosError('BAD_REQUEST', 'a placement needs at least one machine', { value: 0 });
  return {
    ...capabilities,
    machines: machines.length,
    at: (slot) => ({ instance: machines[(slot - 1) % machines.length]!, core: 1 }),
  };
}

function capabilitiesOf(instance: Instance): { root: Capability; management: Capability } {
  return { root: rootOf(instance), management: instance.nameService!.managementCapability };
}

/** Spawns an agent (see {@link RemoteAgent.spawn}) at slot `slot` of `placement`. */
export function agentAt(
  placement: Placement,
  slot: number,
  name: string,
  options: { channelAfterSends?: number; recordedMax?: number } = {},
): Promise<RemoteAgent> {
  const { instance, core } = placement.at(slot);
  return RemoteAgent.spawn(instance, core, name, options);
}

/** The Lookup locality factor of the default policy between two slots: 4 on one core, 2 on one machine, 1 else. */
export function localityOf(placement: Placement, from: number, to: number): number {
  const a = placement.at(from);
  const b = placement.at(to);
  if (a.instance !== b.instance) return 1;
  return a.core === b.core ? 4 : 2;
}
