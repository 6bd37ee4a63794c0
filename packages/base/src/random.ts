import { describeValue } from './describe.js';
import { FosError } from './errors.js';

/**
 * The one source of chance for fos code, injected so that a seed replays a run: `CryptoRandom` (this
 * package) in production, `SeededRandom` of `@fos/sim` under simulation.
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

/**
 * A {@link RandomSource} built on one method, {@link nextUint32}: the float, the bounded integer and the
 * bytes are derived from its words the same way for every generator, so two generators that hand out
 * the same words hand out the same floats, integers and bytes. Extend it to write a generator.
 */
export abstract class Uint32RandomSource implements RandomSource {
  /** Uniform integer in [0, 2^32): the one thing a generator supplies. */
  abstract nextUint32(): number;

  /** Uniform float in [0, 1): 27 bits from one draw and 26 from the next (53 random bits). */
  nextFloat(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 2 ** 26 + low) / twoPow53;
  }

  /**
   * Uniform integer in [0, maxExclusive), unbiased by rejection sampling: draws that fall in the
   * incomplete last block of `maxExclusive` values are thrown away. Each draw is accepted with
   * probability > 1/2, so the loop ends after fewer than two draws on average. `BAD_REQUEST` names a
   * `maxExclusive` that is not a safe integer >= 1.
   */
  nextInt(maxExclusive: number): number {
    if (!Number.isSafeInteger(maxExclusive) || maxExclusive < 1) {
      throw new FosError(
        'BAD_REQUEST',
        `RandomSource.nextInt: maxExclusive must be an integer in [1, ${Number.MAX_SAFE_INTEGER}], got ${describeValue(maxExclusive)}`,
        { value: maxExclusive },
      );
    }
    if (maxExclusive <= twoPow32) {
      const limit = twoPow32 - (twoPow32 % maxExclusive);
      for (;;) {
        const draw = this.nextUint32();
        if (draw < limit) return draw % maxExclusive;
      }
    }
    const limit = twoPow53 - (twoPow53 % maxExclusive);
    for (;;) {
      const draw = (this.nextUint32() >>> 11) * twoPow32 + this.nextUint32();
      if (draw < limit) return draw % maxExclusive;
    }
  }

  /** Fills `bytes`, four bytes per draw, little-endian (so the bytes do not depend on the platform). */
  fillBytes(bytes: Uint8Array): void {
    for (let index = 0; index < bytes.length; index += 4) {
      const word = this.nextUint32();
      for (let offset = 0; offset < 4 && index + offset < bytes.length; offset++) {
        bytes[index + offset] = (word >>> (8 * offset)) & 0xff;
      }
    }
  }
}
