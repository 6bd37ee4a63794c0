// Small, exact hash functions on 32-bit integers. Everything stays within Math.imul and 16-bit limbs
// so that results are identical on every JavaScript engine (no floating-point rounding, no BigInt cost).

const utf8 = new TextEncoder();

/** MurmurHash3's fmix32 finalizer: a bijection on 32-bit integers with full avalanche. */
export function fmix32(value: number): number {
  let mixed = value >>> 0;
  mixed = Math.imul(mixed ^ (mixed >>> 16), 0x85ebca6b);
  mixed = Math.imul(mixed ^ (mixed >>> 13), 0xc2b2ae35);
  return (mixed ^ (mixed >>> 16)) >>> 0;
}

/** FNV-1a 32-bit hash of the UTF-8 bytes of `text`. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of utf8.encode(text)) {
    hash = Math.imul(hash ^ byte, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Incremental FNV-1a 64-bit hash. The 64-bit state is four 16-bit limbs (least significant first)
 * and the multiplication by the FNV prime 2^40 + 0x1b3 is done limb by limb, which keeps every
 * intermediate value far below 2^53.
 */
export class Fnv1a64 {
  // offset basis 0xcbf29ce484222325
  #limb0 = 0x2325;
  #limb1 = 0x8422;
  #limb2 = 0x9ce4;
  #limb3 = 0xcbf2;

  /**
   * Feeds the UTF-8 bytes of `text`. ASCII text (every character below 0x80, which is what traces
   * mostly hold) is fed character by character without encoding it first: the same bytes, so the same
   * hash, without an array per call.
   */
  updateText(text: string): void {
    for (let index = 0; index < text.length; index++) {
      if (text.charCodeAt(index) >= 0x80) {
        for (const byte of utf8.encode(text.slice(index))) this.updateByte(byte);
        return;
      }
      this.updateByte(text.charCodeAt(index));
    }
  }

  /** Feeds one byte (0..255). */
  updateByte(byte: number): void {
    const limb0 = this.#limb0 ^ byte;
    // hash * (2^40 + 0x1b3) mod 2^64: 2^40 is limb 2 shifted by 8 bits, i.e. a factor 0x100 two limbs up.
    const term0 = limb0 * 0x1b3;
    const term1 = this.#limb1 * 0x1b3 + (term0 >>> 16);
    const term2 = this.#limb2 * 0x1b3 + limb0 * 0x100 + Math.floor(term1 / 0x10000);
    const term3 = this.#limb3 * 0x1b3 + this.#limb1 * 0x100 + Math.floor(term2 / 0x10000);
    this.#limb0 = term0 & 0xffff;
    this.#limb1 = term1 % 0x10000;
    this.#limb2 = term2 % 0x10000;
    this.#limb3 = term3 % 0x10000;
  }

  /** The current hash as 16 lowercase hex characters. */
  digestHex(): string {
    return [this.#limb3, this.#limb2, this.#limb1, this.#limb0]
      .map((limb) => limb.toString(16).padStart(4, '0'))
      .join('');
  }
}
