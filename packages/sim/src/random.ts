import { randomFillSync, randomInt } from 'node:crypto';
import { fmix32, fnv1a32 } from './internal/hash.js';
import { checkSafeInteger } from './internal/validate.js';

/**
 * The one source of chance for fos code (injected, so that a seed replays a run): {@link CryptoRandom} in production,
 * {@link SeededRandom} under simulation so that one seed reproduces one run.
 */
export interface RandomSource {
  /** Uniform integer in [0, 2^32). */
  nextUint32(): number;
  /** Uniform float in [0, 1), with 53 random bits. */
  nextFloat(): number;
  /** Uniform integer in [0, maxExclusive); `maxExclusive` is a positive safe integer. Unbiased (rejection sampling). */
  nextInt(maxExclusive: number): number;
  /** Fills `bytes` with random bytes. */
  fillBytes(bytes: Uint8Array): void;
}

const twoPow32 = 2 ** 32;
const twoPow53 = 2 ** 53;

/** 53 random bits as a float in [0, 1): 27 bits from one draw and 26 from the next. */
function floatFromUint32(source: RandomSource): number {
  const high = source.nextUint32() >>> 5;
  const low = source.nextUint32() >>> 6;
  return (high * 2 ** 26 + low) / twoPow53;
}

function checkMaxExclusive(maxExclusive: number): void {
  checkSafeInteger(maxExclusive, 'RandomSource.nextInt: maxExclusive', 1);
}

/**
 * Unbiased integer in [0, maxExclusive) by rejection sampling: draws that fall in the incomplete last
 * block of `maxExclusive` values are thrown away. Each draw is accepted with probability > 1/2, so
 * the loop ends after fewer than two draws on average.
 */
function uniformInt(source: RandomSource, maxExclusive: number): number {
  if (maxExclusive <= twoPow32) {
    const limit = twoPow32 - (twoPow32 % maxExclusive);
    for (;;) {
      const draw = source.nextUint32();
      if (draw < limit) return draw % maxExclusive;
    }
  }
  const limit = twoPow53 - (twoPow53 % maxExclusive);
  for (;;) {
    const draw = (source.nextUint32() >>> 11) * twoPow32 + source.nextUint32();
    if (draw < limit) return draw % maxExclusive;
  }
}

function fillFromUint32(source: RandomSource, bytes: Uint8Array): void {
  for (let index = 0; index < bytes.length; index += 4) {
    const word = source.nextUint32();
    // Little-endian, so the byte stream does not depend on the platform's endianness.
    for (let offset = 0; offset < 4 && index + offset < bytes.length; offset++) {
      bytes[index + offset] = (word >>> (8 * offset)) & 0xff;
    }
  }
}

/** Words fetched from the operating system at once; one system call then serves many draws. */
const cryptoBufferWords = 256;

/** `node:crypto.randomInt` accepts only ranges below 2^48; larger ones use rejection sampling here. */
const cryptoRandomIntRangeMax = 2 ** 48 - 1;

/** Cryptographically strong randomness from `node:crypto` (`randomFillSync`, `randomInt`); not reproducible. */
export class CryptoRandom implements RandomSource {
  readonly #buffer = new Uint32Array(cryptoBufferWords);
  #index = cryptoBufferWords;

  /** Uniform integer in [0, 2^32). */
  nextUint32(): number {
    if (this.#index === cryptoBufferWords) {
      randomFillSync(this.#buffer);
      this.#index = 0;
    }
    return this.#buffer[this.#index++]!;
  }

  /** Uniform float in [0, 1). */
  nextFloat(): number {
    return floatFromUint32(this);
  }

  /** Uniform integer in [0, maxExclusive). */
  nextInt(maxExclusive: number): number {
    checkMaxExclusive(maxExclusive);
    return maxExclusive <= cryptoRandomIntRangeMax ? randomInt(maxExclusive) : uniformInt(this, maxExclusive);
  }

  /** Fills `bytes` from the operating system's generator. */
  fillBytes(bytes: Uint8Array): void {
    randomFillSync(bytes);
  }
}

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
 * the same sequence on every platform. Not for secrets: use {@link CryptoRandom} there.
 */
export class SeededRandom implements RandomSource {
  #state0: number;
  #state1: number;
  #state2: number;
  #state3: number;

  /** @param seed - any safe integer; seeds in [0, 2^32) give distinct streams */
  constructor(seed: number) {
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

  /** Uniform float in [0, 1) with 53 random bits (two draws). */
  nextFloat(): number {
    return floatFromUint32(this);
  }

  /** Uniform integer in [0, maxExclusive), unbiased by rejection sampling. */
  nextInt(maxExclusive: number): number {
    checkMaxExclusive(maxExclusive);
    return uniformInt(this, maxExclusive);
  }

  /** Fills `bytes`, four bytes per draw, little-endian. */
  fillBytes(bytes: Uint8Array): void {
    fillFromUint32(this, bytes);
  }

  /**
   * A new generator whose stream is derived from this generator's current state and `label`, without
   * advancing this one: adding a fork never shifts the numbers this generator hands out later. The
   * same state and label always give the same stream; different labels give independent streams.
   * Typical use: one fork per simulated component (`random.fork('network')`, `random.fork('node/1')`).
   */
  fork(label: string): SeededRandom {
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
