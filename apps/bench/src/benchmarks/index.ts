import type { Benchmark, BenchmarkSuite } from '../harness.js';
import { dispatcherCall } from './dispatcher-call.js';
import { fs } from './fs.js';
import { http } from './http.js';
import { lookupRpc } from './lookup-rpc.js';
import { memory } from './memory.js';
import { messaging, messagingBytes, messagingVsRing } from './messaging.js';
import { nsLookup, nsRegister, nsRegisterContended } from './ns-fleet.js';
import { nsLookupNoAlias, nsLookupWorkers } from './ns-workers.js';
import { peers } from './peers.js';
import { proxy } from './proxy.js';
import { register } from './register.js';
import { sendByName } from './send-by-name.js';
import { rpcStub } from './rpc-stub.js';
import { sendCached } from './send-cached.js';
import { ukSendRoundtrip } from './uksend-roundtrip.js';

/** Every benchmark of `pnpm bench`, in the order they run. */
export function allBenchmarks(): Benchmark[] {
  return [
    ukSendRoundtrip(),
    dispatcherCall(),
    rpcStub(),
    lookupRpc(),
    sendCached(),
    register(),
    nsLookup(),
    nsRegister(),
    nsRegisterContended(),
    messaging(),
    messagingVsRing(),
    messagingBytes(),
    nsLookupWorkers(),
    nsLookupNoAlias(),
    sendByName(),
  ];
}

/** Every suite of `pnpm bench` (several results in one file), run after the benchmarks. */
export function allSuites(): BenchmarkSuite[] {
  return [peers(), proxy(), fs(), http(), memory()];
}

/**
 * The benchmarks `--hogs N` runs beside CPU hogs (see `besideHogs`): `messaging` (its channel round
 * trips; the grid is not measured) and `send-by-name` (its calls by name).
 */
export function hoggableBenchmarks(): Benchmark[] {
  const channel = messaging({ gridClients: [], gridServers: [] }, { gridDirectory: null });
  // No grid is measured, so the settings name none.
  const { grid: _grid, ...settings } = channel.settings;
  return [{ ...channel, settings }, sendByName()];
}
