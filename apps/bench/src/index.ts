export { allBenchmarks, allSuites } from './benchmarks/index.js';
export {
  ukSendRoundtrip,
  ukSendRoundtripDefaults,
  type UkSendRoundtripSettings,
} from './benchmarks/uksend-roundtrip.js';
export {
  formatResultLine,
  formatSignificant,
  machineInfo,
  measureBenchmark,
  median,
  runBenchmark,
  runSuite,
  significant,
  summarize,
  writeResult,
  type Benchmark,
  type BenchmarkResult,
  type BenchmarkSession,
  type BenchmarkSettings,
  type BenchmarkSuite,
  type MachineInfo,
  type RunOptions,
} from './harness.js';
