// The testing example: a test of your own service (./counter.ts) on every fabric. A test cannot hold
// a process that runs on another worker thread, so it drives agents (RemoteAgent): processes with a
// libfos of their own that run commands for the test (call, send, lookup, ...) on their core.
import { runSeeds } from '@fos/sim';
import type { Instance } from '@fos/system';
import { RemoteAgent, rootOf, testFabrics, withInstance } from '@fos/system/testing';
import { describe, expect, it } from 'vitest';

// Worker threads load built JavaScript only, so every fabric spawns the service from the build.
const counterModule = new URL('../../dist/testing/counter.js', import.meta.url);

/** The scenario, the same on every fabric: two clients on other cores share one counter by its name. */
async function twoClientsShareTheCounter(instance: Instance): Promise<void> {
  await instance.spawn({
    core: 1,
    module: counterModule,
    entry: 'counterService',
    args: { capability: rootOf(instance) }, // the root of the name space: a test may name anything
  });
  const alice = await RemoteAgent.spawn(instance, 0, 'alice');
  const bob = await RemoteAgent.spawn(instance, 2, 'bob');
  expect((await alice.aliasResolve('/app/counter')).location.core).toBe(1);
  expect(await alice.call('/app/counter', { add: 2 })).toEqual({ total: 2 });
  expect(await bob.call('/app/counter', { add: 3 })).toEqual({ total: 5 });
  // The service's FosError comes back to the caller with its code.
  await expect(bob.call('/app/counter', { add: 'one' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  expect(await alice.call('/app/counter', { add: -1 })).toEqual({ total: 4 });
}

describe.each(testFabrics)('the counter on the %s fabric', (fabric) => {
  it('adds what each client sends and refuses a bad request', async () => {
    const run = (seed: number) => withInstance({ fabric, cores: 3, seed }, twoClientsShareTheCounter);
    // `sim` is seeded: run a few seeds (a failure prints its seed; SIM_SEED=N replays it). `local`
    // and `worker` take no seed.
    if (fabric === 'sim') await runSeeds(run, { seeds: 3, seedStart: 1 });
    else await run(1);
  });
});
