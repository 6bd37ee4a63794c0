import { assert } from '@fos/base';
import { allocateMessageBytes } from './internal/bytes.js';

// Header slots (Int32) in front of the data region of a ring's SharedArrayBuffer.
const writeSlot = 0; // write index (bits 0..30) and the closed bit (bit 31): one word, so shoot-down cannot race a writer
const readSlot = 1; // read index, advanced by the reader only
const readerWaitingSlot = 2; // 1 while the reader sleeps and wants a doorbell
const closeReasonSlot = 3; // why the ring was closed (see ChannelCloseReason)
const drainWantedSlot = 4; // 1 while the writer waits to hear that the ring is empty
const headerSlots = 8;
const headerBytes = headerSlots * 4;
const closedBit = 1 << 31;
const indexMask = 0x7fffffff;
const lengthPrefixBytes = 4;

/** Why a ring was shot down. */
export type ChannelCloseReason = 'revoked' | 'destroyed' | 'closed';
const closeReasonCodes: Record<ChannelCloseReason, number> = { revoked: 1, destroyed: 2, closed: 3 };
const closeReasonNames: Record<number, ChannelCloseReason> = { 1: 'revoked', 2: 'destroyed', 3: 'closed' };

/** The outcome of a write. */
export type RingWriteResult =
  | { readonly kind: 'written'; readonly doorbell: boolean }
  | { readonly kind: 'full' }
  | { readonly kind: 'closed'; readonly reason: ChannelCloseReason };

function frameBytes(length: number): number {
  return lengthPrefixBytes + ((length + 3) & ~3);
}

/**
 * The circular queue of a user-space channel (thesis §2.2) over a
 * `SharedArrayBuffer`: one writer, one reader, whole messages only (a message is written entirely or
 * not at all, so the send deadlock of §5.3 cannot happen). The write index and the closed bit share
 * one `Int32`: a writer commits with `Atomics.compareExchange`, shoot-down sets the bit with
 * `Atomics.or`, and the index it returns is the reader's private cut-off.
 */
export class ChannelRing {
  /** The shared memory; hand it to the other side. */
  readonly buffer: SharedArrayBuffer;
  /** Bytes of the data region (a power of two). */
  readonly capacityBytes: number;
  private readonly header: Int32Array;
  private readonly data: Uint8Array;
  private readonly view: DataView;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.capacityBytes = buffer.byteLength - headerBytes;
    assert(
      this.capacityBytes > 0 && (this.capacityBytes & (this.capacityBytes - 1)) === 0,
      'ring capacity is a power of two',
    );
    this.header = new Int32Array(buffer, 0, headerSlots);
    this.data = new Uint8Array(buffer, headerBytes);
    this.view = new DataView(buffer, headerBytes);
  }

  /** A new, empty ring whose data region holds `capacityBytes` (a power of two). */
  static create(capacityBytes: number): ChannelRing {
    return new ChannelRing(new SharedArrayBuffer(headerBytes + capacityBytes));
  }

  /** The other side's view of a ring made by {@link ChannelRing.create}. */
  static attach(buffer: SharedArrayBuffer): ChannelRing {
    return new ChannelRing(buffer);
  }

  /** The largest message body that fits in a ring of `capacityBytes` twice over. */
  static messageBytesMaxFor(capacityBytes: number): number {
    return capacityBytes / 2 - lengthPrefixBytes;
  }

  /** True once shot down. */
  get closed(): boolean {
    return (Atomics.load(this.header, writeSlot) & closedBit) !== 0;
  }

  /** Why the ring was shot down, if it was. */
  get closeReason(): ChannelCloseReason | undefined {
    return closeReasonNames[Atomics.load(this.header, closeReasonSlot)];
  }

  /** True when the reader has taken everything written. */
  get empty(): boolean {
    return (Atomics.load(this.header, writeSlot) & indexMask) === Atomics.load(this.header, readSlot);
  }

  /** Writer: appends one whole message or nothing. */
  tryWrite(bytes: Uint8Array): RingWriteResult {
    const frame = frameBytes(bytes.length);
    assert(frame * 2 <= this.capacityBytes, 'the ring holds at least two of the largest messages');
    const word = Atomics.load(this.header, writeSlot);
    if ((word & closedBit) !== 0) return { kind: 'closed', reason: this.closeReason ?? 'closed' };
    const writeIndex = word & indexMask;
    const used = (writeIndex - Atomics.load(this.header, readSlot)) & indexMask;
    if (this.capacityBytes - used < frame) return { kind: 'full' };
    const mask = this.capacityBytes - 1;
    // The prefix never straddles the end: frames are multiples of 4 and the capacity a power of two.
    this.view.setUint32(writeIndex & mask, bytes.length, true);
    const start = (writeIndex + lengthPrefixBytes) & mask;
    const firstPart = Math.min(bytes.length, this.capacityBytes - start);
    this.data.set(bytes.subarray(0, firstPart), start);
    if (firstPart < bytes.length) this.data.set(bytes.subarray(firstPart), 0);
    const committed = Atomics.compareExchange(this.header, writeSlot, writeIndex, (writeIndex + frame) & indexMask);
    // Only shoot-down changes the word under a single writer: the message is not written.
    if (committed !== writeIndex) return { kind: 'closed', reason: this.closeReason ?? 'closed' };
    return { kind: 'written', doorbell: Atomics.exchange(this.header, readerWaitingSlot, 0) === 1 };
  }

  /**
   * Reader: takes the next message, stopping at `cutoff` (the index returned by {@link close}) when
   * given, else at the current write index. A fresh copy (the writer may reuse the space at once),
   * possibly a piece of a slab shared with other messages (see internal/bytes.ts): never transfer it.
   */
  readNext(cutoff?: number): Uint8Array | undefined {
    const readIndex = Atomics.load(this.header, readSlot);
    const limit = cutoff ?? Atomics.load(this.header, writeSlot) & indexMask;
    if (readIndex === limit) return undefined;
    const mask = this.capacityBytes - 1;
    const length = this.view.getUint32(readIndex & mask, true);
    const start = (readIndex + lengthPrefixBytes) & mask;
    const bytes = allocateMessageBytes(length);
    const firstPart = Math.min(length, this.capacityBytes - start);
    bytes.set(this.data.subarray(start, start + firstPart));
    if (firstPart < length) bytes.set(this.data.subarray(0, length - firstPart), firstPart);
    Atomics.store(this.header, readSlot, (readIndex + frameBytes(length)) & indexMask);
    return bytes;
  }

  /**
   * Reader: about to sleep. Returns true if the ring is still empty (a writer will ring the doorbell
   * for its next message); false if a message slipped in, in which case keep reading.
   */
  prepareToSleep(): boolean {
    Atomics.store(this.header, readerWaitingSlot, 1);
    if (!this.empty) {
      Atomics.store(this.header, readerWaitingSlot, 0);
      return false;
    }
    return true;
  }

  /** Shoot-down: sets the closed bit; returns the write index at that instant, the reader's cut-off. */
  close(reason: ChannelCloseReason): number {
    Atomics.compareExchange(this.header, closeReasonSlot, 0, closeReasonCodes[reason]);
    return Atomics.or(this.header, writeSlot, closedBit) & indexMask;
  }

  /** Writer: asks to be told when the ring is empty; returns true if it already is. */
  requestDrainNotice(): boolean {
    Atomics.store(this.header, drainWantedSlot, 1);
    return this.empty;
  }

  /** Reader: true (once) when the writer asked to hear that the ring is empty and it now is. */
  takeDrainRequest(): boolean {
    if (!this.empty) return false;
    return Atomics.exchange(this.header, drainWantedSlot, 0) === 1;
  }
}

/** Bytes a ring's shared buffer takes in front of its data region. */
export const ringHeaderBytes = headerBytes;
