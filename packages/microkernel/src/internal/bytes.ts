// Where the bytes of a message copied out of a ring live (the second copy of thesis §2.2). A typed
// array of more than 64 bytes gets its own off-heap backing store from V8, which costs more than
// everything else a ring read does; so medium-sized messages are carved out of a shared slab instead
// (what Node's Buffer pool does). A slab piece shares its ArrayBuffer with other messages: it must never
// be transferred, and what is decoded from it must not share memory with it (see codec.ts).

/** Bytes of one slab. A live piece keeps its whole slab alive, so slabs stay small. */
export const slabBytes = 16 * 1024;
/** V8 keeps typed arrays up to this size on its heap, where allocating them is cheap. */
const onHeapBytesMax = 64;
/** The largest piece carved from a slab; larger messages get an array of their own. */
const slabPieceBytesMax = slabBytes / 8;

let slab: ArrayBuffer | undefined;
let slabUsed = 0;

/** Fresh bytes for a message of `length` (contents undefined until written). */
export function allocateMessageBytes(length: number): Uint8Array {
  if (length <= onHeapBytesMax || length > slabPieceBytesMax) return new Uint8Array(length);
  if (slab === undefined || slabUsed + length > slabBytes) {
    slab = new ArrayBuffer(slabBytes);
    slabUsed = 0;
  }
  const piece = new Uint8Array(slab, slabUsed, length);
  slabUsed = (slabUsed + length + 7) & ~7;
  return piece;
}

/** True when `bytes` is the whole of its buffer (safe to transfer, and shared with nothing). */
export function isStandalone(bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
}

/** `bytes` itself when standalone, else a standalone copy (to post to another thread). */
export function standaloneBytes(bytes: Uint8Array): Uint8Array {
  return isStandalone(bytes) ? bytes : new Uint8Array(bytes);
}
