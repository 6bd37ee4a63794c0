import { describeValue } from '@fos/base';
import { Fnv1a64 } from './internal/hash.js';
import { refuse } from './internal/validate.js';

/** One delivery of a {@link SimNetwork}. */
export interface SimTraceEntry {
  /** 1-based number of this delivery in its network */
  step: number;
  /** virtual time of the delivery in milliseconds */
  timeMs: number;
  from: string;
  to: string;
  /** the stream's name: `from->to`, or `from->to#streamKey` for a finer stream */
  stream: string;
  /** the message as text (the network's `describe`), cut to {@link traceDescriptionCharsMax} characters */
  description: string;
}

/** The record of a simulated run: what was delivered, when, and a hash that identifies the whole run. */
export interface SimTrace {
  /** The most recent deliveries, oldest first (at most the network's `traceEntriesMax`). */
  readonly entries: readonly SimTraceEntry[];
  /** FNV-1a 64-bit hash over every delivery so far (also those no longer kept), as 16 hex characters. */
  hash(): string;
  /**
   * Human-readable dump of the last `count` entries (default {@link traceFormatEntriesDefault}; 0 or
   * less: none, `Infinity`: all kept). `BAD_REQUEST` for a count that is not a number, or NaN.
   */
  format(count?: number): string;
}

/** Characters of a message description kept in a trace entry; the hash covers the full text. */
export const traceDescriptionCharsMax = 1_000;

/** Entries that {@link SimTrace.format} prints when no count is given. */
export const traceFormatEntriesDefault = 50;

/** Records deliveries for a SimNetwork: keeps the last `entriesMax`, hashes all of them. */
export class TraceRecorder implements SimTrace {
  readonly #entriesMax: number;
  readonly #hash = new Fnv1a64();
  #entries: SimTraceEntry[] = [];
  #recordedCount = 0;

  constructor(entriesMax: number) {
    this.#entriesMax = entriesMax;
  }

  get entries(): readonly SimTraceEntry[] {
    const entries = this.#entries;
    return entries.length > this.#entriesMax ? entries.slice(entries.length - this.#entriesMax) : entries;
  }

  hash(): string {
    return this.#hash.digestHex();
  }

  format(count = traceFormatEntriesDefault): string {
    if (typeof count !== 'number' || Number.isNaN(count))
      refuse(`SimTrace.format: count must be a number, got ${describeValue(count)}`, count);
    const entries = this.entries;
    const shown = count <= 0 ? [] : entries.slice(Math.max(0, entries.length - count));
    const hidden = this.#recordedCount - shown.length;
    const lines = shown.map((entry) => `#${entry.step} t=${entry.timeMs}ms ${entry.stream}: ${entry.description}`);
    if (hidden > 0) lines.unshift(`... ${hidden} earlier deliveries not shown`);
    if (this.#recordedCount === 0) lines.push('(no deliveries)');
    lines.push(`trace hash ${this.hash()}`);
    return lines.join('\n');
  }

  record(entry: SimTraceEntry): void {
    this.#recordedCount++;
    // A zero byte ends each field, so that ("ab", "c") and ("a", "bc") hash differently.
    for (const field of [
      String(entry.step),
      String(entry.timeMs),
      entry.from,
      entry.to,
      entry.stream,
      entry.description,
    ]) {
      this.#hash.updateText(field);
      this.#hash.updateByte(0);
    }
    if (this.#entriesMax === 0) return;
    const kept =
      entry.description.length > traceDescriptionCharsMax
        ? { ...entry, description: `${entry.description.slice(0, traceDescriptionCharsMax)}…` }
        : entry;
    this.#entries.push(kept);
    // Trim in batches, so that keeping the last entriesMax entries costs O(1) per delivery on average.
    if (this.#entries.length >= 2 * this.#entriesMax)
      this.#entries = this.#entries.slice(this.#entries.length - this.#entriesMax);
  }
}
