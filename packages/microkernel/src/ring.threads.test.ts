// The channel ring across two real threads: a writer on a worker thread, the reader here. The worker
// runs the package's built ChannelRing, dist/ring.js (the test task builds first).
import { Worker } from 'node:worker_threads';
import { tierCount } from '@fos/sim';
import { describe, expect, it } from 'vitest';
import { ChannelRing, ringHeaderBytes } from './ring.js';

const writer = new URL('./fixtures/ring-threads.mjs', import.meta.url);

/**
 * Both tests keep two threads busy. `pnpm test` runs 2,000,000 messages and 20,000 races so that CI,
 * which runs other suites beside them on two cores, is not starved; `pnpm test:long` runs the full
 * 10,000,000 and 100,000 (RING_STREAM_MESSAGES and RING_SHOOTDOWN_TRIALS override either).
 */
function countFromEnv(variable: string, fallback: number): number {
  const text = process.env[variable];
  const value = text === undefined || text === '' ? fallback : Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${variable}=${text ?? ''} is not a positive integer`);
  return value;
}
const streamMessages = countFromEnv('RING_STREAM_MESSAGES', tierCount({ fast: 2_000_000, long: 10_000_000 }));
const shootDownTrials = countFromEnv('RING_SHOOTDOWN_TRIALS', tierCount({ fast: 20_000, long: 100_000 }));
const ringModule = new URL('../dist/ring.js', import.meta.url).href;

function exited(worker: Worker): Promise<number> {
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', resolve);
  });
}

describe('ChannelRing between two threads', () => {
  it(
    `carries ${streamMessages} messages of 4 to 264 bytes across wrap-around: nothing lost, doubled, reordered or damaged`,
    async () => {
      const count = streamMessages;
      const ring = ChannelRing.create(64 * 1024);
      const worker = new Worker(writer, { workerData: { mode: 'stream', ringModule, ring: ring.buffer, count } });
      const done = exited(worker);
      let bad: string | undefined;
      let received = 0;
      const deadline = performance.now() + 120_000;
      while (received < count && bad === undefined) {
        const bytes = ring.readNext();
        if (bytes === undefined) {
          if (performance.now() > deadline) bad = `stalled after ${received} messages`;
          continue;
        }
        const seq = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
        if (seq !== received || bytes.length !== 4 + (seq % 261))
          bad = `message ${received}: got sequence ${seq}, ${bytes.length} bytes`;
        for (let index = 4; index < bytes.length && bad === undefined; index++)
          if (bytes[index] !== ((seq * 31 + index) & 0xff)) bad = `message ${seq}: byte ${index} damaged`;
        received++;
      }
      expect(bad).toBeUndefined();
      expect(await done).toBe(0);
      expect(received).toBe(count);
      expect(ring.readNext()).toBeUndefined();
    },
    tierCount({ fast: 180_000, long: 900_000 }),
  );

  it(
    `delivers exactly the committed writes wherever shoot-down falls, racing a writer thread ${shootDownTrials} times`,
    async () => {
      const trials = shootDownTrials;
      // Rings of 64 bytes (at most 8 frames of 8): full rings and wrap-around are common.
      const rings = Array.from({ length: 256 }, () => ChannelRing.create(64));
      const control = new Int32Array(new SharedArrayBuffer(12));
      const worker = new Worker(writer, {
        workerData: {
          mode: 'shootDown',
          ringModule,
          control: control.buffer,
          trials,
          rings: rings.map((ring) => ring.buffer),
        },
      });
      const done = exited(worker);
      let seed = 12345;
      const nextRandom = (bound: number): number => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed % bound;
      };
      const failures: string[] = [];
      for (let trial = 1; trial <= trials && failures.length === 0; trial++) {
        const buffer = (rings[trial % rings.length] as ChannelRing).buffer;
        new Int32Array(buffer, 0, ringHeaderBytes / 4).fill(0);
        const ring = ChannelRing.attach(buffer);
        Atomics.store(control, 0, trial);
        Atomics.notify(control, 0);
        const delivered: number[] = [];
        const take = (cutoff?: number): void => {
          for (let bytes = ring.readNext(cutoff); bytes !== undefined; bytes = ring.readNext(cutoff))
            delivered.push(new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true));
        };
        // Read for a while, then shoot down at a random moment, then read up to the cut-off.
        for (let spins = nextRandom(400); spins > 0; spins--) take();
        const cutoff = ring.close('revoked');
        take(cutoff);
        while (Atomics.load(control, 2) !== trial) Atomics.wait(control, 2, trial - 1, 1000);
        const written = Atomics.load(control, 1);
        if (delivered.length !== written || delivered.some((seq, index) => seq !== index)) {
          failures.push(
            `trial ${trial}: ${written} writes committed, delivered ${JSON.stringify(delivered.slice(0, 20))}${delivered.length > 20 ? '…' : ''}`,
          );
        }
      }
      expect(failures).toEqual([]);
      expect(await done).toBe(0);
    },
    tierCount({ fast: 180_000, long: 900_000 }),
  );
});
