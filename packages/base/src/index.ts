// The public surface of @fos/base: the vocabulary every fos package shares, below the kernel. Each name
// has its home here and nowhere else (tests of code built on fos also use `@fos/base/testing`).

// Errors: operating errors are FosError values with a code from one closed list; broken invariants are assertions.
export { FosError, fosErrorCodes, hasFosErrorCode, isFosError, isFosErrorCode, type FosErrorCode } from './errors.js';
export { assert, AssertionError } from './assert.js';
export { errnoError, restoreErrno } from './errno.js';
export { describeValue, readArgument } from './describe.js';

// Message bodies: what a message may carry, copied and measured through one codec.
export { copyBody, decodeBody, encodeBody, encodeBodyTransient, validateBody, type MessageBody } from './codec.js';

// Names: parsing, validation, the well-known names and domains, aliases.
export {
  aliasOf,
  isUnderSubdomain,
  nameServiceName,
  parentDomain,
  parseName,
  rootDomain,
  temporaryDomain,
  validateName,
  validateSubdomain,
} from './names.js';

// The limits of names and bodies.
export {
  bodyDepthMax,
  describedCharactersMax,
  messageBytesMax,
  nameCharactersMax,
  nameDepthMax,
  nameSegmentCharactersMax,
} from './limits.js';

// Time and chance, injected: the interfaces, and the real implementations (a simulation brings its own).
export type { Clock, Timer } from './clock.js';
export { Uint32RandomSource, type RandomSource } from './random.js';
export {
  CryptoRandom,
  nextTurn,
  SystemClock,
  systemTimerDelayMsMax,
  writeErrorLine,
  type SystemClockOptions,
} from './real.js';
