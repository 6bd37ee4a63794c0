// The public API of @fos/sim, listed by name: everything else is internal and may change.
export {
  SystemClock,
  VirtualClock,
  systemTimerDelayMsMax,
  virtualClockAdvanceRoundsMax,
  virtualTimersPendingMax,
  type Clock,
  type SystemClockOptions,
  type Timer,
} from './clock.js';
export {
  SimNetwork,
  inFlightMessagesMaxDefault,
  traceEntriesMaxDefault,
  type DeliverFunction,
  type RunUntilQuietOptions,
  type SimNetworkOptions,
} from './network.js';
export { CryptoRandom, SeededRandom, type RandomSource } from './random.js';
export { runSeeds, seedCountMax, seedsDefault, seedsFromEnv, testTier, tierCount, type SeedRunOptions, type TestTier } from './seeds.js';
export { traceDescriptionCharsMax, traceFormatEntriesDefault, type SimTrace, type SimTraceEntry } from './trace.js';
