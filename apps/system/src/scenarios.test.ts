// The naming scenarios (thesis §4.2.4, §5.2, §4.3, and migration), run through boot(): on the local
// fabric and on worker threads, on the sim fabric over many seeds (SIM_SEEDS; 200, or 2,000 under
// `pnpm test:long`; SIM_SEED=N replays one), and spread over three machines of one instance: over TLS
// on loopback, and in one SimWorld over many seeds. Every scenario drives its processes through agents
// (@fos/system/testing): a test cannot hold a process that lives on another thread or machine.
import { runSeeds, tierCount } from '@fos/sim';
import { describe, it } from 'vitest';
import {
  freshProcess,
  loadBalancing,
  migrationOnKernelPath,
  migrationOverChannel,
  revokedCapability,
  revokedChannel,
  staleCache,
} from './fixtures/scenarios.js';
import { withMachines } from './fixtures/machines.js';
import { onMachines, onOneMachine, testFabrics, withInstance, type Placement } from './testing.js';

/** The scenarios of one machine; the ones that hold on any placement run across machines too. */
const anywhere = { staleCache, revokedCapability, freshProcess } as const;
const scenarios = { ...anywhere, revokedChannel, migrationOnKernelPath, migrationOverChannel } as const;

/** The fabrics the portable scenarios run on, and the seeds of each scenario on `sim`. */
const fabrics = testFabrics;
const simSeeds = tierCount({ fast: 200, long: 2_000 });
/** What bounds a hang of one sweep (it grows with the tier's seeds). */
const sweepTimeoutMs = tierCount({ fast: 120_000, long: 1_200_000 });

const onOne =
  (scenario: (p: Placement) => Promise<unknown>) =>
  (instance: Parameters<typeof onOneMachine>[0]): Promise<unknown> =>
    scenario(onOneMachine(instance));

describe.each(fabrics)('scenario loadBalancing through boot() and agents on the %s fabric', (fabric) => {
  it('spreads 40,000 uncached Lookups by weight, then by weight × locality (fixed seed)', async () => {
    await withInstance(
      fabric === 'sim' ? { fabric: 'sim', cores: 4, seed: 4 } : { fabric, cores: 4 },
      onOne(loadBalancing),
    );
  }, 120_000);
});

describe.each(fabrics)('the scenarios through boot() and agents on the %s fabric', (fabric) => {
  it.each(Object.entries(scenarios))(
    fabric === 'sim' ? `scenario %s holds for every seed (${simSeeds})` : 'scenario %s holds',
    async (_, scenario) => {
      if (fabric === 'sim')
        await runSeeds(async (seed) => void (await withInstance({ fabric, cores: 4, seed }, onOne(scenario))), {
          seeds: simSeeds,
          seedStart: 1,
        });
      else await withInstance({ fabric, cores: 4 }, onOne(scenario));
    },
    sweepTimeoutMs,
  );
});

describe('the scenarios spread over three machines of one instance', () => {
  it('loadBalancing over TLS on loopback: by weight, then by weight × locality (1 on another machine)', async () => {
    await withMachines({ fabric: 'local' }, (machines) => loadBalancing(onMachines(machines)));
  }, 120_000);

  it('loadBalancing in a SimWorld (fixed seed)', async () => {
    await withMachines({ fabric: 'sim', seed: 4 }, (machines) => loadBalancing(onMachines(machines)));
  }, 120_000);

  it.each(Object.entries(anywhere))(
    'scenario %s holds over TLS on loopback',
    async (_, scenario) => {
      await withMachines({ fabric: 'local' }, (machines) => scenario(onMachines(machines)));
    },
    60_000,
  );

  it.each(Object.entries(anywhere))(
    `scenario %s holds in a SimWorld for every seed (${simSeeds})`,
    async (_, scenario) => {
      await runSeeds(
        async (seed) => withMachines({ fabric: 'sim', seed }, (machines) => scenario(onMachines(machines))),
        {
          seeds: simSeeds,
          seedStart: 1,
        },
      );
    },
    sweepTimeoutMs,
  );
});
