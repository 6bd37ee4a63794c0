// `messaging` (thesis Figure 6-4): small-message round trips between processes on worker cores, over
// the kernel path and over user-space channels, beside two baselines with no fos in them, run in the
// same process with the same message size, messages in flight (one per client) and threads: worker
// threads echoing over `postMessage`, and worker threads echoing over a bare SharedArrayBuffer ring.
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker } from 'node:worker_threads';
import { encodeBody } from '@fos/base';
import { Machine, WorkerFabric, workerSpinMicros } from '@fos/microkernel';
import { gridPointRounds, writeGrid, type Benchmark, type BenchmarkSession } from '../harness.js';
import type { ClientArgs, EchoAddress, MessagingPath } from '../worker-processes.js';
import { defaultGridDirectory } from './ns-fleet.js';

/** Settings of the messaging benchmarks. */
export interface MessagingSettings {
  /** Timed round trips of one client per round (after `warmupRoundTrips`). */
  readonly roundTrips: number;
  readonly warmupRoundTrips: number;
  /** Bytes of the request's payload (the whole request is a few dozen bytes more: its reply address). */
  readonly payloadBytes: number;
  readonly rounds: number;
  readonly warmupRounds: number;
  /** The grid (measured once per `messaging` run): clients × echo servers × paths. */
  readonly gridClients: readonly number[];
  readonly gridServers: readonly number[];
  readonly gridRoundTrips: number;
  /** Timed rounds per grid point and path (after one discarded warm-up round); the point is their median. */
  readonly gridRounds: number;
}

export const messagingDefaults: MessagingSettings = Object.freeze({
  roundTrips: 20_000,
  warmupRoundTrips: 2_000,
  payloadBytes: 32,
  rounds: 9,
  warmupRounds: 1,
  gridClients: [1, 2, 4, 8],
  gridServers: [1, 8],
  gridRoundTrips: 5_000,
  gridRounds: 3,
});

/** Where the grid is written (`<directory>/messaging-grid.json`); null writes nothing. */
export interface MessagingOptions {
  readonly gridDirectory?: string | URL | null;
  /** The built process module (default: `dist/worker-processes.js` of this package). */
  readonly processesModule?: string | URL;
}

/** The built module of `src/worker-processes.ts`: beside the running command, or in `dist/` from the sources. */
export function defaultProcessesModule(): URL {
  const here = import.meta.url;
  // From the built command (dist/cli.js) the module lies beside it; from the sources, in dist/.
  return here.endsWith('.ts')
    ? new URL('../../dist/worker-processes.js', here)
    : new URL('./worker-processes.js', here);
}

/**
 * `messaging`: one client and one echo server, each on its own worker core, round trips over a
 * user-space channel both ways; baseline `postMessage`: two worker threads echoing the same bytes
 * over a `MessageChannel`. Also measures the grid of Figure 6-4 once (clients 1..8 × 1 or 8 servers ×
 * kernel path and channel) and writes it to JSON.
 */
export function messaging(overrides: Partial<MessagingSettings> = {}, options: MessagingOptions = {}): Benchmark {
  return messagingBenchmark('messaging', 'postMessage', { ...messagingDefaults, ...overrides }, options, true);
}

/** `messaging-vs-ring`: the channel path of {@link messaging} against two worker threads echoing over a bare SharedArrayBuffer ring. */
export function messagingVsRing(overrides: Partial<MessagingSettings> = {}, options: MessagingOptions = {}): Benchmark {
  return messagingBenchmark('messaging-vs-ring', 'raw-ring', { ...messagingDefaults, ...overrides }, options, false);
}

/**
 * `messaging-bytes`: {@link messagingVsRing} with the very bytes the baselines carry as every request
 * and answer body (a `Uint8Array` of the request's encoded size) instead of the request object: what
 * the channel path costs when the codec has nothing to build.
 */
export function messagingBytes(overrides: Partial<MessagingSettings> = {}, options: MessagingOptions = {}): Benchmark {
  return messagingBenchmark(
    'messaging-bytes',
    'raw-ring',
    { ...messagingDefaults, ...overrides },
    options,
    false,
    true,
  );
}

function messagingBenchmark(
  name: string,
  baselineName: 'postMessage' | 'raw-ring',
  settings: MessagingSettings,
  options: MessagingOptions,
  withGrid: boolean,
  bareBytes = false,
): Benchmark {
  return {
    name,
    unit: 'roundtrips/s',
    baselineName,
    settings: {
      fabric: 'worker',
      path: 'channel',
      clients: 1,
      servers: 1,
      threads: 2,
      inFlight: 1,
      payloadBytes: settings.payloadBytes,
      messageBytes: requestBytes(settings.payloadBytes),
      body: bareBytes ? 'bytes (a Uint8Array of messageBytes)' : 'the request object',
      roundTrips: settings.roundTrips,
      warmupRoundTrips: settings.warmupRoundTrips,
      spinMicros: workerSpinMicros,
      ...(withGrid
        ? {
            grid: `clients ${settings.gridClients.join(',')} x servers ${settings.gridServers.join(',')} x kernel,channel, median of ${settings.gridRounds} rounds`,
          }
        : {}),
    },
    rounds: settings.rounds,
    warmupRounds: settings.warmupRounds,
    run: async () => {
      const module = options.processesModule ?? defaultProcessesModule();
      if (withGrid) {
        const grid = await measureGrid(settings, module);
        const directory = options.gridDirectory === undefined ? defaultGridDirectory : options.gridDirectory;
        if (directory !== null) {
          const points = grid.map((point) => ({
            ...point,
            value: Number(point.value.toPrecision(3)),
            perClient: point.perClient.map((rate) => Number(rate.toPrecision(3))),
            rounds: point.rounds.map((rate) => Number(rate.toPrecision(3))),
          }));
          await writeGrid(directory, 'messaging', {
            settings: { ...settings, messageBytes: requestBytes(settings.payloadBytes), cpus: availableParallelism() },
            points,
          });
        }
      }
      return openSession(settings, module, baselineName, bareBytes);
    },
  };
}

/** The encoded size of one request (what the baselines post, byte for byte). */
function requestBytes(payloadBytes: number): number {
  const location = { machine: 'm0', core: 0, mailbox: 1 };
  return encodeBody({
    replyName: '/bench/reply/m0.1.1',
    replyLocation: location,
    replyCapability: 'A'.repeat(22),
    payload: new Uint8Array(payloadBytes),
  }).length;
}

async function openSession(
  settings: MessagingSettings,
  module: string | URL,
  baselineName: 'postMessage' | 'raw-ring',
  bareBytes: boolean,
): Promise<BenchmarkSession> {
  const point = await openPoint(module, 1, 1);
  let baseline: RawEcho;
  try {
    baseline = await (baselineName === 'postMessage' ? openPostMessageEcho : openRingEcho)(
      requestBytes(settings.payloadBytes),
    );
  } catch (error) {
    await point.close();
    throw error;
  }
  return {
    measured: async () =>
      (
        await point.round(
          'channel',
          settings.roundTrips,
          settings.warmupRoundTrips,
          settings.payloadBytes,
          bareBytes ? requestBytes(settings.payloadBytes) : undefined,
        )
      ).total,
    baseline: () => baseline.round(settings.roundTrips, settings.warmupRoundTrips),
    close: async () => {
      await baseline.close();
      await point.close();
    },
  };
}

/** Echo servers on cores 0..servers-1, clients on the cores after: one thread each. */
async function openPoint(module: string | URL, clients: number, servers: number) {
  const machine = new Machine({ fabric: new WorkerFabric({ cores: clients + servers }) });
  try {
    const addresses: EchoAddress[] = [];
    for (let server = 0; server < servers; server++) {
      const handle = await machine.spawn({
        core: server,
        module,
        entry: 'echoServer',
        name: `echo-${server}`,
        args: { name: `/bench/echo/${server}` },
      });
      addresses.push(handle.result as unknown as EchoAddress);
    }
    return {
      /** Every client makes its round trips at once; the point's value is their sum. */
      round: async (
        path: MessagingPath,
        roundTrips: number,
        warmupRoundTrips: number,
        payloadBytes: number,
        bareBytes?: number,
      ) => {
        const rates = await Promise.all(
          Array.from({ length: clients }, async (_, client) => {
            const args: ClientArgs = {
              servers: rotate(addresses, client),
              path,
              roundTrips,
              warmupRoundTrips,
              payloadBytes,
              ...(bareBytes === undefined ? {} : { bareBytes }),
            };
            const handle = await machine.spawn({
              core: servers + client,
              module,
              entry: 'echoClient',
              name: `client-${client}`,
              args,
            });
            return (handle.result as { perSecond: number }).perSecond;
          }),
        );
        return { total: rates.reduce((sum, rate) => sum + rate, 0), rates };
      },
      close: () => machine.shutdown(),
    };
  } catch (error) {
    await machine.shutdown();
    throw error;
  }
}

/** Client `i` starts at server `i mod servers`, so the load spreads. */
function rotate<T>(items: readonly T[], by: number): T[] {
  const start = by % items.length;
  return [...items.slice(start), ...items.slice(0, start)];
}

/** One point of the grid. */
export interface MessagingGridPoint {
  readonly path: MessagingPath;
  readonly clients: number;
  readonly servers: number;
  readonly threads: number;
  /** More busy threads than the machine has cores: recorded, not used for goals. */
  readonly oversubscribed: boolean;
  /** Round trips/s, all clients together: the median of the point's timed rounds. */
  readonly value: number;
  /** Per client, in the round whose total is the median. */
  readonly perClient: readonly number[];
  /** Every timed round's total. */
  readonly rounds: readonly number[];
}

async function measureGrid(settings: MessagingSettings, module: string | URL): Promise<MessagingGridPoint[]> {
  const cpus = availableParallelism();
  const grid: MessagingGridPoint[] = [];
  for (const servers of settings.gridServers) {
    for (const clients of settings.gridClients) {
      const point = await openPoint(module, clients, servers);
      try {
        for (const path of ['kernel', 'channel'] as const) {
          const { value, rounds } = await gridPointRounds(
            () => point.round(path, settings.gridRoundTrips, settings.warmupRoundTrips, settings.payloadBytes),
            (round) => round.total,
            1,
            settings.gridRounds,
          );
          const chosen = rounds.find((round) => round.total === value) ?? rounds[0]!;
          grid.push({
            path,
            clients,
            servers,
            threads: clients + servers,
            oversubscribed: clients + servers > cpus,
            value,
            perClient: chosen.rates,
            rounds: rounds.map((round) => round.total),
          });
        }
      } finally {
        await point.close();
      }
    }
  }
  return grid;
}

/** A baseline: two worker threads, one echoing what the other sends, one in flight. */
interface RawEcho {
  round(roundTrips: number, warmupRoundTrips: number): Promise<number>;
  close(): Promise<void>;
}

/** Runs a client worker's round: it answers its round trips per second. */
function askRound(client: Worker, roundTrips: number, warmupRoundTrips: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    client.once('message', (perSecond: number) => resolve(perSecond));
    client.once('error', reject);
    client.postMessage({ roundTrips, warmupRoundTrips });
  });
}

async function closeWorkers(workers: readonly Worker[]): Promise<void> {
  await Promise.all(workers.map((worker) => worker.terminate()));
}

// The baseline workers are plain scripts (eval): no fos, nothing to build.
const postMessageServer = `
const { workerData } = require('node:worker_threads');
workerData.port.on('message', (bytes) => workerData.port.postMessage(bytes));
`;

// A baseline client's rounds: the main thread asks for one, the client times its own round trips.
const clientRounds = `
parentPort.on('message', async ({ roundTrips, warmupRoundTrips }) => {
  for (let i = 0; i < warmupRoundTrips; i++) await roundTrip();
  const started = performance.now();
  for (let i = 0; i < roundTrips; i++) {
    const answer = await roundTrip();
    if (answer.length !== messageBytes) throw new Error('the echo lost bytes');
  }
  parentPort.postMessage(roundTrips / ((performance.now() - started) / 1000));
});
`;

const postMessageClient = `
const { parentPort, workerData } = require('node:worker_threads');
const { port, messageBytes } = workerData;
const request = new Uint8Array(messageBytes).fill(7);
const roundTrip = () => new Promise((resolve) => { port.once('message', resolve); port.postMessage(request); });
${clientRounds}`;

/** `postMessage`: the request bytes posted over a `MessageChannel` between two worker threads and posted back (structured clone each way). */
async function openPostMessageEcho(messageBytes: number): Promise<RawEcho> {
  const { port1, port2 } = new MessageChannel();
  const server = new Worker(postMessageServer, { eval: true, workerData: { port: port2 }, transferList: [port2] });
  const client = new Worker(postMessageClient, {
    eval: true,
    workerData: { port: port1, messageBytes },
    transferList: [port1],
  });
  return {
    round: (roundTrips, warmupRoundTrips) => askRound(client, roundTrips, warmupRoundTrips),
    close: () => closeWorkers([client, server]),
  };
}

// A bare single-writer, single-reader ring per direction (length-prefixed frames, write and read
// indices in an Int32 header) and a doorbell per thread: a reader spins for spinMicros, then sleeps
// in Atomics.waitAsync; a writer bumps the reader's doorbell and wakes it only if it sleeps. The same
// policy a fos worker core follows, without a kernel, names, capabilities or a codec.
const ringCommon = `
const { parentPort, workerData } = require('node:worker_threads');
const { inbox, outbox, myBell, peerBell, spinMicros, messageBytes } = workerData;
const ring = (buffer) => ({ header: new Int32Array(buffer, 0, 2), data: new Uint8Array(buffer, 8), capacity: buffer.byteLength - 8 });
const input = ring(inbox), output = ring(outbox), mine = new Int32Array(myBell), theirs = new Int32Array(peerBell);
const frame = (length) => 4 + ((length + 3) & ~3);
function write(bytes) {
  const w = Atomics.load(output.header, 0), r = Atomics.load(output.header, 1);
  if (output.capacity - (w - r) < frame(bytes.length)) throw new Error('ring full');
  const mask = output.capacity - 1, at = w & mask;
  new DataView(output.data.buffer, 8).setUint32(at, bytes.length, true);
  const start = (w + 4) & mask, first = Math.min(bytes.length, output.capacity - start);
  output.data.set(bytes.subarray(0, first), start);
  if (first < bytes.length) output.data.set(bytes.subarray(first), 0);
  Atomics.store(output.header, 0, w + frame(bytes.length));
  Atomics.add(theirs, 0, 1);
  if (Atomics.load(theirs, 1) === 1) Atomics.notify(theirs, 0);
}
function tryRead() {
  const w = Atomics.load(input.header, 0), r = Atomics.load(input.header, 1);
  if (w === r) return undefined;
  const mask = input.capacity - 1, length = new DataView(input.data.buffer, 8).getUint32(r & mask, true);
  const start = (r + 4) & mask, out = new Uint8Array(length), first = Math.min(length, input.capacity - start);
  out.set(input.data.subarray(start, start + first));
  if (first < length) out.set(input.data.subarray(0, length - first), first);
  Atomics.store(input.header, 1, r + frame(length));
  return out;
}
async function read() {
  for (;;) {
    const seen = Atomics.load(mine, 0);
    const spinUntil = performance.now() + spinMicros / 1000;
    do {
      const bytes = tryRead();
      if (bytes !== undefined) return bytes;
    } while (performance.now() < spinUntil);
    Atomics.store(mine, 1, 1);
    if (Atomics.load(mine, 0) === seen) await Atomics.waitAsync(mine, 0, seen).value;
    Atomics.store(mine, 1, 0);
  }
}
`;

const ringServer = `${ringCommon}
// A pending Atomics.waitAsync does not keep a thread alive: a listening port does.
parentPort.on('message', () => undefined);
(async () => { for (;;) write(await read()); })();
`;

const ringClient = `${ringCommon}
const request = new Uint8Array(messageBytes).fill(7);
const roundTrip = async () => { write(request); return read(); };
${clientRounds}`;

/** `raw-ring`: the request bytes through a bare SharedArrayBuffer ring each way between two worker threads. */
async function openRingEcho(messageBytes: number): Promise<RawEcho> {
  const ringBytes = 64 * 1024;
  const requests = new SharedArrayBuffer(8 + ringBytes);
  const answers = new SharedArrayBuffer(8 + ringBytes);
  const serverBell = new SharedArrayBuffer(8);
  const clientBell = new SharedArrayBuffer(8);
  const common = { spinMicros: workerSpinMicros, messageBytes };
  const server = new Worker(ringServer, {
    eval: true,
    workerData: { ...common, inbox: requests, outbox: answers, myBell: serverBell, peerBell: clientBell },
  });
  const client = new Worker(ringClient, {
    eval: true,
    workerData: { ...common, inbox: answers, outbox: requests, myBell: clientBell, peerBell: serverBell },
  });
  return {
    round: (roundTrips, warmupRoundTrips) => askRound(client, roundTrips, warmupRoundTrips),
    close: () => closeWorkers([client, server]),
  };
}
