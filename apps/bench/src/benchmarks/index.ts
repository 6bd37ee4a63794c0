import type { Benchmark, BenchmarkSuite } from '../harness.js';
import { dispatcherCall } from './dispatcher-call.js';
import { lookupRpc } from './lookup-rpc.js';
import { memory } from './memory.js';
import { messaging, messagingVsRing } from './messaging.js';
import { nsLookup, nsRegister, nsRegisterContended } from './ns-fleet.js';
import { nsLookupWorkers } from './ns-workers.js';
import { peers } from './peers.js';
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
    nsLookupWorkers(),
    sendByName(),
  ];
}

/** Every suite of `pnpm bench` (several results in one file), run after the benchmarks. */
export function allSuites(): BenchmarkSuite[] {
  return [peers(), memory()];
}
