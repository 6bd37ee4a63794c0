// The public API of @fos/sim, listed by name: everything else is internal and may change. The
// interfaces it implements (Clock, Timer, RandomSource) and their real implementations (SystemClock,
// CryptoRandom) are @fos/base's: the real clock and the real source of chance are not simulation.
export { VirtualClock, virtualClockAdvanceRoundsMax, virtualTimersPendingMax } from './clock.js';
export {
  SimNetwork,
  inFlightMessagesMaxDefault,
  traceEntriesMaxDefault,
  type DeliverFunction,
  type RunUntilQuietOptions,
  type SimNetworkOptions,
} from './network.js';
export { SeededRandom } from './random.js';
export {
  runSeeds,
  seedCountMax,
  seedFailuresKeptMax,
  SeedSweepError,
  seedsDefault,
  seedsFromEnv,
  testTier,
  tierCount,
  type SeedRunOptions,
  type TestTier,
} from './seeds.js';
export { traceDescriptionCharsMax, traceFormatEntriesDefault, type SimTrace, type SimTraceEntry } from './trace.js';
