import { describeValue, Uint32RandomSource } from '@fos/base';
import { fmix32, fnv1a32 } from './internal/hash.js';
import { checkSafeInteger, checkString, readArgument, refuse } from './internal/validate.js';

const twoPow32 = 2 ** 32;
const goldenRatio32 = 0x9e3779b9;

function rotateLeft32(value: number, bits: number): number {
  return ((value << bits) | (value >>> (32 - bits))) >>> 0;
}

/**
 * Folds a safe integer seed into 32 bits: seeds in [0, 2^32) stay as they are (so each gives its own
 * stream); the bits above are mixed in so that large and negative seeds still spread.
 */
function foldSeed(seed: number): number {
  const low = seed >>> 0;
  const high = Math.floor(seed / twoPow32) >>> 0;
  return high === 0 ? low : (low ^ fmix32(high)) >>> 0;
}

/**
 * Deterministic pseudo-random numbers: **xoshiro128\*\*** (Blackman and Vigna, 2018; 128-bit state,
 * period 2^128 - 1), its state seeded from the seed through **SplitMix32** (a golden-ratio Weyl
 * sequence finished by MurmurHash3's fmix32), as the xoshiro authors recommend. The same seed yields
 * the same sequence on every platform. The `RandomSource` of a simulation; not for secrets: use
 * `CryptoRandom` of `@fos/base` there.
 */
export class SeededRandom extends Uint32RandomSource {
  #state0: number;
  #state1: number;
  #state2: number;
  #state3: number;

  /** @param seed - any safe integer; seeds in [0, 2^32) give distinct streams (`BAD_REQUEST` otherwise) */
  constructor(seed: number) {
    super();
    checkSafeInteger(seed, 'SeededRandom: seed', Number.MIN_SAFE_INTEGER);
    let weyl = foldSeed(seed);
    const splitMix32 = (): number => {
      weyl = (weyl + goldenRatio32) >>> 0;
      return fmix32(weyl);
    };
    // Four consecutive outputs of SplitMix32 are never all zero (fmix32 is a bijection, so only one
    // Weyl value maps to 0), hence the all-zero state that xoshiro must avoid cannot arise here.
    this.#state0 = splitMix32();
    this.#state1 = splitMix32();
    this.#state2 = splitMix32();
    this.#state3 = splitMix32();
  }

  /** Uniform integer in [0, 2^32): one xoshiro128** step. */
  nextUint32(): number {
    const result = Math.imul(rotateLeft32(Math.imul(this.#state1, 5) >>> 0, 7), 9) >>> 0;
    const shifted = (this.#state1 << 9) >>> 0;
    this.#state2 = (this.#state2 ^ this.#state0) >>> 0;
    this.#state3 = (this.#state3 ^ this.#state1) >>> 0;
    this.#state1 = (this.#state1 ^ this.#state2) >>> 0;
    this.#state0 = (this.#state0 ^ this.#state3) >>> 0;
    this.#state2 = (this.#state2 ^ shifted) >>> 0;
    this.#state3 = rotateLeft32(this.#state3, 11);
    return result;
  }

  /**
   * Uniform integer in [0, maxExclusive), unbiased (the sampler of `Uint32RandomSource`).
   * `BAD_REQUEST` for a `maxExclusive` that is not a safe integer >= 1.
   */
  override nextInt(maxExclusive: number): number {
    // The check costs one comparison on the path every simulated step takes; the words of the
    // refusal are built only when it refuses.
    if (typeof maxExclusive === 'number' && Number.isSafeInteger(maxExclusive) && maxExclusive >= 1)
      return super.nextInt(maxExclusive);
    return refuse(
      `SeededRandom.nextInt: maxExclusive must be an integer in [1, ${Number.MAX_SAFE_INTEGER}], got ${describeValue(maxExclusive)}`,
      maxExclusive,
    );
  }

  /** Fills `bytes` with random bytes, four per draw, little-endian. `BAD_REQUEST` unless `bytes` is a `Uint8Array`. */
  override fillBytes(bytes: Uint8Array): void {
    // `instanceof` asks a proxy for its prototype, which may throw.
    const isBytes = readArgument(bytes, 'SeededRandom.fillBytes: bytes', () => bytes instanceof Uint8Array);
    if (!isBytes) refuse(`SeededRandom.fillBytes: bytes must be a Uint8Array, got ${describeValue(bytes)}`, bytes);
    super.fillBytes(bytes);
  }

  /**
   * A new generator whose stream is derived from this generator's current state and `label`, without
   * advancing this one: adding a fork never shifts the numbers this generator hands out later. The
   * same state and label always give the same stream; different labels give independent streams.
   * Typical use: one fork per simulated component (`random.fork('network')`, `random.fork('node/1')`).
   * `BAD_REQUEST` for a label that is not a string.
   */
  fork(label: string): SeededRandom {
    checkString(label, 'SeededRandom.fork: label');
    const labelHash = fnv1a32(label);
    const parentState = [this.#state0, this.#state1, this.#state2, this.#state3];
    // Each child word is a bijection of the matching parent word under a label-dependent mask, so
    // distinct parents give distinct children, and fmix32's avalanche decorrelates sibling streams.
    const childState = parentState.map((word, index) =>
      fmix32(word ^ fmix32((labelHash + Math.imul(index + 1, goldenRatio32)) >>> 0)),
    );
    const child = new SeededRandom(0);
    if (!childState.some((word) => word !== 0)) childState[0] = goldenRatio32;
    child.#state0 = childState[0]!;
    child.#state1 = childState[1]!;
    child.#state2 = childState[2]!;
    child.#state3 = childState[3]!;
    return child;
  }
}
