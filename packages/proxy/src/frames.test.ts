import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { isFosError } from '@fos/base';
import { SeededRandom } from '@fos/sim';
import { LocalFabric, Machine, type ProcessContext } from '@fos/microkernel';
import { decodeFramePayload, encodeFrame, FrameReader, framePayloadBytesMax, type Frame } from './frames.js';
import { linkPair } from './link.js';
import { startProxy } from './proxy.js';

const bytesMax = 65536;

const samples: Frame[] = [
  { type: 'hello', protocol: 1, machine: 'alpha', listen: '10.0.0.1:7000' },
  { type: 'hello', protocol: 1, machine: 'b-2_x', listen: null },
  {
    type: 'deliver',
    id: 7,
    sender: { machine: 'alpha', core: 3, process: 'alpha.3.12' },
    location: { machine: 'beta', core: 0, mailbox: 4 },
    destinationName: '/svc/echo',
    capability: 'AAAAAAAAAAAAAAAAAAAAAA',
    sequence: 41,
    bytes: new Uint8Array([1, 2, 3, 250]),
  },
  {
    type: 'skip',
    sender: { machine: 'alpha', core: 0, process: 'alpha.0.1' },
    location: { machine: 'beta', core: 1, mailbox: 9 },
    sequence: 3,
  },
  { type: 'answer', id: 7 },
  { type: 'answer', id: 8, error: { code: 'WOULD_BLOCK', message: 'full', sequence: 2 } },
  { type: 'answer', id: 9, error: { code: 'NO_SUCH_NAME', message: '/x is not valid' } },
  { type: 'refuse', reason: 'machine alpha is connected already' },
  { type: 'alias', id: 12, operation: 'add', location: { machine: 'beta', core: 2, mailbox: 5 }, name: '/sys/fs' },
  { type: 'alias', id: 13, operation: 'remove', location: { machine: 'beta', core: 0, mailbox: 1 }, name: '/tmp/x' },
  { type: 'ask', id: 1, topic: 'join', body: new Uint8Array([0x81, 0xa1, 0x61, 0x01]) },
  { type: 'reply', id: 1, body: new Uint8Array([0xc0]) },
  { type: 'reply', id: 2, body: new Uint8Array(0), error: { code: 'CONFLICT', message: 'machine beta is taken' } },
];

describe('proxy frames', () => {
  it('round-trips every frame type, however the stream is cut into chunks', () => {
    const stream = Uint8Array.from(samples.flatMap((frame) => [...encodeFrame(frame, bytesMax)]));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length }), { maxLength: 20 }), (cuts) => {
        const reader = new FrameReader(bytesMax);
        const points = [...new Set(cuts)].sort((left, right) => left - right);
        const frames: Frame[] = [];
        let from = 0;
        for (const point of [...points, stream.length]) {
          frames.push(...reader.push(stream.subarray(from, point)));
          from = point;
        }
        expect(frames).toEqual(samples);
        expect(reader.bufferedBytes).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses oversized, truncated, unknown and ill-formed frames with a FosError, and everything after one', () => {
    const oversized = new Uint8Array([0xff, 0xff, 0xff, 0xff, 2]);
    expect(() => new FrameReader(bytesMax).push(oversized)).toThrow(/MESSAGE_TOO_LARGE/);
    const justPast = new Uint8Array(4);
    new DataView(justPast.buffer).setUint32(0, framePayloadBytesMax(bytesMax) + 1);
    expect(() => new FrameReader(bytesMax).push(justPast)).toThrow(/MESSAGE_TOO_LARGE/);
    expect(() => decodeFramePayload(new Uint8Array([9, 0, 1, 0x90]))).toThrow(/unknown frame type 9/);
    expect(() => decodeFramePayload(new Uint8Array([1, 0, 0]))).toThrow(/header length 0/);
    expect(() => decodeFramePayload(new Uint8Array([1, 0, 200, 1]))).toThrow(/does not fit/);
    const hello = encodeFrame(samples[0]!, bytesMax);
    const trailing = new Uint8Array([...hello.subarray(4), 0]);
    expect(() => decodeFramePayload(trailing)).toThrow(/after a hello header/);
    const wrongSchema = encodeFrame({ type: 'refuse', reason: 'x' }, bytesMax);
    wrongSchema[4] = 1; // a refuse header read as a hello
    expect(() => new FrameReader(bytesMax).push(wrongSchema)).toThrow(/hello header/);
    const reader = new FrameReader(bytesMax);
    expect(() => reader.push(new Uint8Array([0, 0, 0, 1, 0]))).toThrow(/BAD_REQUEST/);
    expect(() => reader.push(hello)).toThrow(/BAD_REQUEST/);
    expect(() =>
      encodeFrame({ ...(samples[2] as Frame & { type: 'deliver' }), bytes: new Uint8Array(bytesMax + 1) }, bytesMax),
    ).toThrow(/MESSAGE_TOO_LARGE/);
  });

  it('survives 100,000 random and mutated frames: only FosErrors, and what it accepts fits its schema', () => {
    const seed = Number(process.env.SIM_SEED ?? 2026);
    const random = new SeededRandom(seed);
    const valid = samples.map((frame) => encodeFrame(frame, bytesMax));
    let accepted = 0;
    for (let trial = 0; trial < 100_000; trial++) {
      const bytes = mutatedFrame(random, valid);
      const reader = new FrameReader(bytesMax);
      try {
        for (const frame of reader.push(bytes)) {
          accepted++;
          // Whatever is accepted encodes again to a frame that decodes to the same value.
          expect(new FrameReader(bytesMax).push(encodeFrame(frame, bytesMax))).toEqual([frame]);
        }
      } catch (error) {
        if (!isFosError(error)) throw new Error(`seed=${seed} trial ${trial}: ${String(error)}`);
      }
    }
    expect(accepted).toBeGreaterThan(0);
  });
});

function randomBytes(random: SeededRandom, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  random.fillBytes(bytes);
  return bytes;
}

/** A valid frame with a few bytes changed, cut, or extended; or plain random bytes. */
function mutatedFrame(random: SeededRandom, valid: readonly Uint8Array[]): Uint8Array {
  const kind = random.nextInt(4);
  if (kind === 0) return randomBytes(random, random.nextInt(64));
  const base = valid[random.nextInt(valid.length)]!.slice();
  if (kind === 1) {
    for (let flips = 1 + random.nextInt(3); flips > 0; flips--) base[random.nextInt(base.length)] = random.nextInt(256);
    return base;
  }
  if (kind === 2) return base.subarray(0, random.nextInt(base.length));
  const longer = new Uint8Array(base.length + 1 + random.nextInt(8));
  longer.set(base);
  longer.set(randomBytes(random, longer.length - base.length), base.length);
  return longer;
}

describe('a running proxy under hostile frames', () => {
  const machines: Machine[] = [];
  afterEach(async () => {
    for (const machine of machines.splice(0)) await machine.shutdown();
  });

  it('takes 3,000 connections of random and mutated frames: no crash, no delivery, bounded state', async () => {
    const logs: string[] = [];
    const machine = new Machine({
      fabric: new LocalFabric({ cores: 2 }),
      machine: 'beta',
      log: (line) => logs.push(line),
    });
    machines.push(machine);
    let proxyContext: ProcessContext | undefined;
    let serverContext: ProcessContext | undefined;
    await machine.spawn({ core: 1, name: 'proxy', function: (context) => void (proxyContext = context) });
    await machine.spawn({ core: 0, name: 'server', function: (context) => void (serverContext = context) });
    const proxy = await startProxy(proxyContext!, { kernelCapability: machine.kernelCapability });
    const mailbox = await serverContext!.kernel.createMailbox();
    await serverContext!.kernel.addName(mailbox.location, '/svc/echo');
    const random = new SeededRandom(Number(process.env.SIM_SEED ?? 7));
    const hello = encodeFrame({ type: 'hello', protocol: 1, machine: 'gamma', listen: null }, bytesMax);
    // Frames a machine gamma might send once introduced, all of them wrong in some way.
    const wrong = [
      ...samples.map((frame) => encodeFrame(frame, bytesMax)),
      encodeFrame(
        {
          type: 'deliver',
          id: 1,
          sender: { machine: 'gamma', core: 0, process: 'gamma.0.1' },
          location: mailbox.location,
          destinationName: '/svc/echo',
          capability: 'AAAAAAAAAAAAAAAAAAAAAA',
          sequence: 0,
          bytes: new Uint8Array([0x90]),
        },
        bytesMax,
      ),
    ];
    let frames = 0;
    for (let connection = 0; connection < 3000; connection++) {
      const [inside, outside] = linkPair(['gamma', 'beta']);
      const joined = proxy.addLink(inside).catch(() => undefined);
      outside.open({ data: () => {}, drain: () => {}, closed: () => {} });
      if (random.nextInt(2) === 0) outside.write(hello);
      for (let count = 1 + random.nextInt(5); count > 0; count--, frames++) outside.write(mutatedFrame(random, wrong));
      outside.close('done');
      await joined;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(frames).toBeGreaterThan(8000);
    // Nothing reached the mailbox (the one well-formed deliver carries a capability that is not its own).
    expect(serverContext!.kernel.pendingMessages(mailbox.location)).toBe(0);
    expect(proxy.stats().connections).toBe(0);
    expect(proxy.peers()).toEqual([]);
    expect(proxy.stats().delivered).toBe(0);
    expect(logs.filter((line) => /crashed/.test(line))).toEqual([]);
  });
});
