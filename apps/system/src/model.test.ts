// Scenario 6 through boot(): the model-based test of @fos/name-service/testing (fast-check commands:
// reserve, register direct/indirect/chained, unregister, lookup, registerTemporary, malformed requests,
// random capabilities) run against the name service as booted — a member process reached over RPC,
// keeping real kernel aliases on real mailboxes — on the local fabric and on the sim fabric (each run
// its own seed), and on the worker fabric through agents (@fos/system/testing). Every answer must match the model, every kernel alias be the one the model says, and
// every refused request leave the table's hash (from `list`) unchanged.
import { tierCount } from '@fos/sim';
import { spawnLibfos } from '@fos/libfos-messaging';
import { formatLocation, type Capability, type MailboxLocation, type ProcessContext } from '@fos/microkernel';
import {
  nameServiceCommands,
  newModelRun,
  type ExpectFunction,
  type NameSpaceUnderTest,
} from '@fos/name-service/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BootOptions, Instance } from './index.js';
import { withMachines } from './fixtures/machines.js';
import { mailboxesPerOwner, underTestThroughAgents } from './fixtures/model.js';
import { onMachines, onOneMachine, withInstance } from './testing.js';

const runs = Number(process.env.MODEL_RUNS ?? tierCount({ fast: 200, long: 2_000 }));
/**
 * Sequences on the worker fabric. Fewer than on local and sim: there every request, table hash and
 * alias read is an agent command (a process spawned across threads), and each sequence boots worker
 * threads, so a sequence costs several times what it does in-thread; the model's coverage comes from
 * the local and sim runs, and 50 sequences are enough to show the booted worker fabric agrees with it.
 */
const workerRuns = Math.min(runs, tierCount({ fast: 50, long: 200 }));
/** Kernel aliases read back over all runs: the check is worth something only if there were some. */
let aliasPairsSeen = 0;
const countPairs = (pairs: number): void => void (aliasPairsSeen += pairs);

/** Four mailboxes of one process on `core`, and a way to read their names (the kernel's aliases). */
async function mailboxesOn(
  instance: Instance,
  core: number,
): Promise<{ locations: MailboxLocation[]; context: ProcessContext }> {
  let made: { locations: MailboxLocation[]; context: ProcessContext } | undefined;
  await instance.spawn({
    core,
    name: `mailboxes-${core}`,
    function: async (context) => {
      const locations: MailboxLocation[] = [];
      for (let index = 0; index < mailboxesPerOwner; index++)
        locations.push((await context.kernel.createMailbox()).location);
      made = { locations, context };
    },
  });
  if (made === undefined) throw new Error('the mailbox owner did not start');
  return made;
}

async function underTest(instance: Instance): Promise<NameSpaceUnderTest> {
  const nameService = instance.nameService;
  if (nameService === undefined) throw new Error('booted without a name service');
  const owners = [await mailboxesOn(instance, 1), await mailboxesOn(instance, 2)];
  const libfos = await spawnLibfos(instance, 3, 'model-client');
  const management: Capability = nameService.managementCapability;
  return {
    service: libfos.nameService,
    root: nameService.rootCapability,
    locations: owners.flatMap((owner) => owner.locations),
    tableHash: async () => (await libfos.nameService.list({ capability: management })).tableHash,
    aliases: async () => {
      const pairs: string[] = [];
      for (const owner of owners) {
        for (const location of owner.locations)
          for (const name of await owner.context.kernel.mailboxNames(location))
            pairs.push(`${formatLocation(location)} ${name}`);
      }
      aliasPairsSeen += pairs.length;
      return pairs.sort();
    },
  };
}

describe('scenario model-based through boot() and agents on the worker fabric with 1 name server', () => {
  it(
    `agrees with the model of the name space on ${workerRuns} random command sequences`,
    async () => {
      const pairsBefore = aliasPairsSeen;
      const commands = fc.commands(nameServiceCommands(expect as unknown as ExpectFunction), {
        maxCommands: 30,
        size: 'max',
      });
      await fc.assert(
        fc.asyncProperty(commands, async (sequence) => {
          await withInstance({ fabric: 'worker', cores: 4, nameServers: 1 }, async (instance) => {
            const real = await underTestThroughAgents(onOneMachine(instance), countPairs);
            const run = newModelRun(real.root);
            run.trace.push('(worker)');
            await fc.asyncModelRun(() => ({ model: run, real }), sequence);
          });
        }),
        { numRuns: workerRuns, seed: Number(process.env.MODEL_SEED ?? 4) },
      );
      expect(aliasPairsSeen).toBeGreaterThan(pairsBefore);
    },
    tierCount({ fast: 300_000, long: 3_000_000 }),
  );
});

describe.each([
  ['local', 1],
  ['sim', 1],
  ['sim', 3],
] as const)('scenario model-based through boot() on the %s fabric with %i name server(s)', (fabric, nameServers) => {
  it(
    `agrees with the model of the name space on ${runs} random command sequences`,
    async () => {
      let bootSeed = 0;
      const commands = fc.commands(nameServiceCommands(expect as unknown as ExpectFunction), {
        maxCommands: 30,
        size: 'max',
      });
      await fc.assert(
        fc.asyncProperty(commands, async (sequence) => {
          bootSeed++;
          const options: BootOptions =
            fabric === 'sim'
              ? { fabric: 'sim', cores: 4, seed: bootSeed, nameServers }
              : { fabric: 'local', cores: 4, nameServers };
          await withInstance(options, async (instance) => {
            const real = await underTest(instance);
            const run = newModelRun(real.root);
            run.trace.push(fabric === 'sim' ? `(sim seed=${bootSeed}, ${nameServers} name server(s))` : '(local)');
            await fc.asyncModelRun(() => ({ model: run, real }), sequence);
          });
        }),
        { numRuns: runs, seed: Number(process.env.MODEL_SEED ?? 4) },
      );
      expect(aliasPairsSeen).toBeGreaterThan(0);
    },
    tierCount({ fast: 300_000, long: 3_000_000 }),
  );
});

/** Sequences across three machines: each boots three machines in one SimWorld (the seed is the sequence's number). */
const machineRuns = Math.min(runs, tierCount({ fast: 200, long: 1_000 }));

describe('scenario model-based across three machines of one instance (one member each), in a SimWorld', () => {
  it(
    `agrees with the model of the name space on ${machineRuns} random command sequences`,
    async () => {
      const pairsBefore = aliasPairsSeen;
      let worldSeed = 0;
      const commands = fc.commands(nameServiceCommands(expect as unknown as ExpectFunction), {
        maxCommands: 30,
        size: 'max',
      });
      await fc.assert(
        fc.asyncProperty(commands, async (sequence) => {
          worldSeed++;
          await withMachines({ fabric: 'sim', seed: worldSeed }, async (machines) => {
            const real = await underTestThroughAgents(onMachines(machines), countPairs);
            const run = newModelRun(real.root);
            run.trace.push(`(three machines, world seed=${worldSeed})`);
            await fc.asyncModelRun(() => ({ model: run, real }), sequence);
          });
        }),
        { numRuns: machineRuns, seed: Number(process.env.MODEL_SEED ?? 4) },
      );
      expect(aliasPairsSeen).toBeGreaterThan(pairsBefore);
    },
    tierCount({ fast: 300_000, long: 3_000_000 }),
  );
});
