import type { Benchmark } from '../harness.js';
import { dispatcherCall } from './dispatcher-call.js';
import { rpcStub } from './rpc-stub.js';
import { ukSendRoundtrip } from './uksend-roundtrip.js';

/** Every benchmark of `pnpm bench`, in the order they run. */
export function allBenchmarks(): Benchmark[] {
  return [ukSendRoundtrip(), dispatcherCall(), rpcStub()];
}
