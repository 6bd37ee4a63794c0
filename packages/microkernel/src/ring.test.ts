import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChannelRing } from './ring.js';

function message(id: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let index = 0; index < length; index++) bytes[index] = (id * 31 + index) & 0xff;
  return bytes;
}

describe('ChannelRing', () => {
  it('matches a FIFO array model under random writes and reads, across wrap-around', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ write: fc.integer({ min: 0, max: 500 }) }),
            fc.record({ read: fc.integer({ min: 1, max: 4 }) }),
          ),
          { maxLength: 300 },
        ),
        (operations) => {
          const ring = ChannelRing.create(1024);
          const model: Uint8Array[] = [];
          let usedBytes = 0;
          let id = 0;
          for (const operation of operations) {
            if ('write' in operation) {
              const bytes = message(id++, operation.write);
              const frame = 4 + ((bytes.length + 3) & ~3);
              const result = ring.tryWrite(bytes);
              if (usedBytes + frame <= 1024) {
                expect(result.kind).toBe('written');
                model.push(bytes);
                usedBytes += frame;
              } else {
                expect(result.kind).toBe('full');
              }
            } else {
              for (let count = 0; count < operation.read; count++) {
                const expected = model.shift();
                const actual = ring.readNext();
                expect(actual).toEqual(expected);
                if (expected !== undefined) usedBytes -= 4 + ((expected.length + 3) & ~3);
              }
            }
          }
          for (const expected of model) expect(ring.readNext()).toEqual(expected);
          expect(ring.readNext()).toBeUndefined();
          expect(ring.empty).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('always holds two of the largest messages', () => {
    const ring = ChannelRing.create(256);
    const largest = ChannelRing.messageBytesMaxFor(256);
    expect(ring.tryWrite(new Uint8Array(largest)).kind).toBe('written');
    expect(ring.tryWrite(new Uint8Array(largest)).kind).toBe('written');
    expect(ring.tryWrite(new Uint8Array(0)).kind).toBe('full');
  });

  it('delivers what was written before shoot-down and nothing after', () => {
    const ring = ChannelRing.create(1024);
    for (let id = 0; id < 3; id++) expect(ring.tryWrite(message(id, 10)).kind).toBe('written');
    const cutoff = ring.close('revoked');
    expect(ring.tryWrite(message(9, 10))).toEqual({ kind: 'closed', reason: 'revoked' });
    const reader = ChannelRing.attach(ring.buffer);
    const delivered: Uint8Array[] = [];
    for (let bytes = reader.readNext(cutoff); bytes !== undefined; bytes = reader.readNext(cutoff))
      delivered.push(bytes);
    expect(delivered).toEqual([message(0, 10), message(1, 10), message(2, 10)]);
    expect(reader.closed).toBe(true);
    expect(reader.closeReason).toBe('revoked');
  });

  it('asks for a doorbell only when the reader sleeps', () => {
    const ring = ChannelRing.create(1024);
    expect(ring.tryWrite(message(0, 4))).toEqual({ kind: 'written', doorbell: false });
    expect(ring.prepareToSleep()).toBe(false);
    ring.readNext();
    expect(ring.prepareToSleep()).toBe(true);
    expect(ring.tryWrite(message(1, 4))).toEqual({ kind: 'written', doorbell: true });
    expect(ring.tryWrite(message(2, 4))).toEqual({ kind: 'written', doorbell: false });
  });

  it('tells a waiting writer once the ring is empty', () => {
    const ring = ChannelRing.create(1024);
    ring.tryWrite(message(0, 4));
    expect(ring.requestDrainNotice()).toBe(false);
    expect(ring.takeDrainRequest()).toBe(false);
    ring.readNext();
    expect(ring.takeDrainRequest()).toBe(true);
    expect(ring.takeDrainRequest()).toBe(false);
  });

  it('delivers exactly the committed prefix wherever shoot-down falls among writes and reads (100,000 interleavings)', () => {
    // A writer interleaved with a closer at every possible point of a short stream: whatever the
    // reader delivers up to its cut-off is exactly the committed prefix, and a write after the close fails.
    let races = 0;
    for (let round = 0; races < 100_000; round++) {
      const ring = ChannelRing.create(64);
      const closeAfter = round % 9;
      const written: number[] = [];
      let cutoff: number | undefined;
      let refusedAfterClose = true;
      const reader = ChannelRing.attach(ring.buffer);
      const delivered: number[] = [];
      for (let id = 0; id < 8; id++) {
        if (id === closeAfter) cutoff = ring.close('revoked');
        const result = ring.tryWrite(Uint8Array.of(id));
        if (result.kind === 'written') written.push(id);
        if (cutoff !== undefined && result.kind === 'written') refusedAfterClose = false;
        if (result.kind === 'full' || id % 3 === round % 3) {
          for (let bytes = reader.readNext(cutoff); bytes !== undefined; bytes = reader.readNext(cutoff))
            delivered.push(bytes[0]!);
        }
        races++;
      }
      cutoff ??= ring.close('revoked');
      for (let bytes = reader.readNext(cutoff); bytes !== undefined; bytes = reader.readNext(cutoff))
        delivered.push(bytes[0]!);
      expect(refusedAfterClose).toBe(true);
      expect(delivered).toEqual(written);
    }
  });
});
