// A member's block cache: the blocks it read from the block device, least recently used evicted
// first, bounded by a block count. Concurrent readers of one missing block share one device read.
import { assert } from '@fos/base';
import { blockdevBlocksPerReadMax, fsBlockBytes } from './limits.js';

/** Reads `count` whole blocks from `block` on (the last block of the image may come back short). */
export type ReadBlocks = (block: number, count: number) => Promise<Uint8Array>;

/** Counters of a {@link BlockCache}. */
export interface BlockCacheStats {
  readonly blocks: number;
  readonly hits: number;
  readonly misses: number;
}

/** An LRU cache of image blocks in front of a block device. */
export class BlockCache {
  readonly #read: ReadBlocks;
  readonly #capacity: number;
  readonly #imageBytes: number;
  /** Insertion order is recency order: a hit moves its block to the end. */
  readonly #blocks = new Map<number, Uint8Array>();
  readonly #pending = new Map<number, Promise<Uint8Array>>();
  #hits = 0;
  #misses = 0;

  constructor(read: ReadBlocks, capacity: number, imageBytes: number) {
    assert(Number.isInteger(capacity) && capacity >= 1, 'a block cache holds at least one block');
    this.#read = read;
    this.#capacity = capacity;
    this.#imageBytes = imageBytes;
  }

  /** Bytes `offset .. offset + length` of the image (clipped at its end). */
  async readAt(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(offset + length, this.#imageBytes);
    if (end <= offset) return new Uint8Array(0);
    const first = Math.floor(offset / fsBlockBytes);
    const last = Math.floor((end - 1) / fsBlockBytes);
    const blocks = await this.#blocksOf(first, last);
    if (blocks.length === 1) {
      const start = offset - first * fsBlockBytes;
      return (blocks[0] as Uint8Array).slice(start, start + (end - offset));
    }
    const out = new Uint8Array(end - offset);
    let written = 0;
    for (let index = 0; index < blocks.length; index++) {
      const block = blocks[index] as Uint8Array;
      const blockStart = (first + index) * fsBlockBytes;
      const from = Math.max(offset, blockStart) - blockStart;
      const to = Math.min(end, blockStart + block.length) - blockStart;
      out.set(block.subarray(from, to), written);
      written += to - from;
    }
    assert(written === out.length, 'the blocks cover the range read');
    return out;
  }

  stats(): BlockCacheStats {
    return { blocks: this.#blocks.size, hits: this.#hits, misses: this.#misses };
  }

  /** Blocks `first..last`, fetching the missing ones in runs of at most `blockdevBlocksPerReadMax`. */
  async #blocksOf(first: number, last: number): Promise<Uint8Array[]> {
    const wanted: Promise<Uint8Array>[] = [];
    let runStart = -1;
    const flushRun = (runEnd: number): void => {
      if (runStart < 0) return;
      for (let start = runStart; start <= runEnd; start += blockdevBlocksPerReadMax) {
        const count = Math.min(blockdevBlocksPerReadMax, runEnd - start + 1);
        this.#fetch(start, count);
      }
      runStart = -1;
    };
    for (let block = first; block <= last; block++) {
      if (this.#blocks.has(block) || this.#pending.has(block)) {
        flushRun(block - 1);
      } else if (runStart < 0) {
        runStart = block;
      }
    }
    flushRun(last);
    for (let block = first; block <= last; block++) {
      const cached = this.#blocks.get(block);
      if (cached !== undefined) {
        this.#hits++;
        // Most recently used: to the end of the map.
        this.#blocks.delete(block);
        this.#blocks.set(block, cached);
        wanted.push(Promise.resolve(cached));
      } else {
        wanted.push(this.#pending.get(block) as Promise<Uint8Array>);
      }
    }
    return Promise.all(wanted);
  }

  /** Starts one device read of `count` blocks; each block's promise waits in `#pending` meanwhile. */
  #fetch(start: number, count: number): void {
    this.#misses += count;
    const read = this.#read(start, count);
    for (let index = 0; index < count; index++) {
      const block = start + index;
      const one = read.then((bytes) => {
        const slice = bytes.subarray(index * fsBlockBytes, (index + 1) * fsBlockBytes);
        if (this.#pending.get(block) === one) {
          this.#pending.delete(block);
          this.#insert(block, slice);
        }
        return slice;
      });
      // A failed read is not cached: the next reader asks the device again.
      one.catch(() => {
        if (this.#pending.get(block) === one) this.#pending.delete(block);
      });
      this.#pending.set(block, one);
    }
  }

  #insert(block: number, bytes: Uint8Array): void {
    this.#blocks.set(block, bytes);
    while (this.#blocks.size > this.#capacity) {
      const oldest = this.#blocks.keys().next().value as number;
      this.#blocks.delete(oldest);
    }
  }
}
