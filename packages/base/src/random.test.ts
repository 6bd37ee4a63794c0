import { describe, expect, it } from 'vitest';
import { Uint32RandomSource } from './random.js';

/** A generator that hands out the given words in turn, so every derived value can be worked out by hand. */
class ScriptedRandom extends Uint32RandomSource {
  draws = 0;
  constructor(private readonly words: readonly number[]) {
    super();
  }
  nextUint32(): number {
    const word = this.words[this.draws++ % this.words.length];
    if (word === undefined) throw new Error('no words');
    return word;
  }
}

describe('Uint32RandomSource', () => {
  it('nextFloat joins 27 bits of one word and 26 of the next into [0, 1)', () => {
    expect(new ScriptedRandom([0, 0]).nextFloat()).toBe(0);
    expect(new ScriptedRandom([0xffffffff, 0xffffffff]).nextFloat()).toBe(1 - 2 ** -53);
    expect(new ScriptedRandom([0x80000000, 0]).nextFloat()).toBe(0.5);
  });

  it('nextInt throws away the draws of the incomplete last block (no bias)', () => {
    // 2^32 mod 3 = 1, so the one largest word is rejected and the next draw decides.
    const random = new ScriptedRandom([0xffffffff, 7]);
    expect(random.nextInt(3)).toBe(7 % 3);
    expect(random.draws).toBe(2);
    expect(new ScriptedRandom([0xfffffffe]).nextInt(3)).toBe(0xfffffffe % 3);
  });

  it('nextInt above 2^32 draws 53 bits from two words', () => {
    const random = new ScriptedRandom([0xffffffff, 5]);
    expect(random.nextInt(2 ** 53 - 1)).toBe(((0xffffffff >>> 11) * 2 ** 32 + 5) % (2 ** 53 - 1));
    expect(random.draws).toBe(2);
  });

  it('nextInt rejects bounds that are not safe integers >= 1, naming them', () => {
    const random = new ScriptedRandom([1]);
    expect(() => random.nextInt(0)).toThrow(/maxExclusive.*0/);
    expect(() => random.nextInt(2.5)).toThrow(/BAD_REQUEST/);
    expect(() => random.nextInt(2 ** 53)).toThrow(/BAD_REQUEST/);
  });

  it('fillBytes writes each word little-endian, including a partial last word', () => {
    const bytes = new Uint8Array(7);
    new ScriptedRandom([0x04030201, 0x08070605]).fillBytes(bytes);
    expect([...bytes]).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});
