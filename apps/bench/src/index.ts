export { allBenchmarks } from './benchmarks/index.js';
export {
  ukSendRoundtrip,
  ukSendRoundtripDefaults,
  type UkSendRoundtripSettings,
} from './benchmarks/uksend-roundtrip.js';
export {
  formatResultLine,
  formatSignificant,
  machineInfo,
  median,
  runBenchmark,
  significant,
  summarize,
  writeResult,
  type Benchmark,
  type BenchmarkResult,
  type BenchmarkSession,
  type BenchmarkSettings,
  type MachineInfo,
  type RunOptions,
} from './harness.js';
