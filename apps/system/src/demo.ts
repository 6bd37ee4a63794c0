import { FosError, type MessageBody } from '@fos/microkernel';
import { SystemClock, type Clock } from '@fos/sim';
import { z } from 'zod';
import { boot, type BootFabric } from './boot.js';
import { clientReplyName, demoMessagesMax, echoServerName, type DemoClientResult } from './processes.js';

/** Bytes of each demo request's payload. */
export const demoPayloadBytes = 64;
/** Round trips of the demo when `messages` is not given. */
export const defaultDemoMessages = 10_000;
/** The demo puts its echo server on core 1 and its client on core 2. */
export const demoCoresMin = 3;
const echoCore = 1;
const clientCore = 2;

/** What `fos demo` runs. */
export interface DemoOptions {
  /** Cores of the instance (at least {@link demoCoresMin}; default 4). */
  readonly cores?: number;
  /** Round trips (default {@link defaultDemoMessages}). */
  readonly messages?: number;
  /** Default `local`. */
  readonly fabric?: BootFabric;
  /** The seed of a `sim` run (required there). */
  readonly seed?: number;
  /**
   * The module the demo's processes are spawned from (default: the built `processes.js` beside this
   * module). Tests that run this file from source point it at the build.
   */
  readonly processesModule?: string | URL;
  /** Where elapsed time is read from (default: the system clock; a simulated run still takes real time). */
  readonly wallClock?: Clock;
}

/** What the demo did. */
export interface DemoResult {
  readonly fabric: BootFabric;
  readonly cores: number;
  readonly seed: number | undefined;
  /** Processes alive when the workload ended (echo server and client). */
  readonly processes: number;
  readonly mailboxes: number;
  /** Messages the kernels delivered into mailboxes (requests and replies). */
  readonly delivered: number;
  /** Deliveries the kernels refused. */
  readonly refused: number;
  readonly roundTrips: number;
  /** Replies the client checked against its requests. */
  readonly verified: number;
  readonly payloadBytes: number;
  /** Wall-clock time of the workload. */
  readonly elapsedMs: number;
  readonly roundTripsPerSecond: number;
}

const demoOptionsSchema = z.object({
  cores: z.number().int().min(demoCoresMin).optional(),
  messages: z.number().int().min(1).max(demoMessagesMax).optional(),
  fabric: z.enum(['local', 'sim']).optional(),
});

const clientResultSchema = z.object({ roundTrips: z.number(), payloadBytes: z.number(), verified: z.number(), machineElapsedMs: z.number() });

/**
 * Boots an instance, spawns an echo server on core 1 and a client on core 2 (both from a module),
 * lets the client make `messages` round trips of {@link demoPayloadBytes}-byte payloads over `ukSend`
 * with one request in flight, and shuts the instance down. `BAD_REQUEST` for bad options.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const parsed = demoOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? 'options');
    throw new FosError('BAD_REQUEST', `demo: ${key} = ${String((options as Record<string, unknown>)[key])} is invalid: ${issue?.message ?? 'invalid'}`, { value: (options as Record<string, unknown>)[key] });
  }
  const cores = options.cores ?? 4;
  const messages = options.messages ?? defaultDemoMessages;
  const fabric = options.fabric ?? 'local';
  const module = options.processesModule ?? new URL('./processes.js', import.meta.url);
  const wallClock = options.wallClock ?? new SystemClock();
  if (fabric === 'sim' && options.seed === undefined) throw new FosError('BAD_REQUEST', 'demo: fabric "sim" needs a seed: one seed replays one run', { value: options.seed });
  const instance = fabric === 'sim' && options.seed !== undefined ? await boot({ fabric: 'sim', cores, seed: options.seed, nameServers: 0 }) : await boot({ fabric: 'local', cores, nameServers: 0 });
  try {
    const echo = await instance.spawn({ core: echoCore, module, entry: 'echoServer', name: 'echo', args: { name: echoServerName } });
    const startedMs = wallClock.now();
    const client = await instance.spawn({
      core: clientCore,
      module,
      entry: 'demoClient',
      name: 'client',
      args: { server: echo.result, messages, payloadBytes: demoPayloadBytes, replyName: clientReplyName },
    });
    const elapsedMs = wallClock.now() - startedMs;
    const clientResult: DemoClientResult = parseClientResult(client.result);
    const stats = instance.stats();
    return {
      fabric,
      cores,
      seed: fabric === 'sim' ? options.seed : undefined,
      processes: stats.processes,
      mailboxes: stats.mailboxes,
      delivered: stats.delivered,
      refused: stats.refused,
      roundTrips: clientResult.roundTrips,
      verified: clientResult.verified,
      payloadBytes: clientResult.payloadBytes,
      elapsedMs,
      roundTripsPerSecond: elapsedMs > 0 ? clientResult.roundTrips / (elapsedMs / 1000) : Number.POSITIVE_INFINITY,
    };
  } finally {
    await instance.shutdown();
  }
}

function parseClientResult(result: MessageBody): DemoClientResult {
  const parsed = clientResultSchema.safeParse(result);
  if (!parsed.success) throw new FosError('BAD_REQUEST', `demo: the client returned ${JSON.stringify(result)}, not a result`, { value: result });
  return parsed.data;
}

/** The summary `fos demo` prints. */
export function formatDemoSummary(result: DemoResult): string {
  const rows: Array<[string, string]> = [
    ['fabric', result.seed === undefined ? result.fabric : `${result.fabric} (seed=${result.seed})`],
    ['cores', String(result.cores)],
    ['processes', String(result.processes)],
    ['mailboxes', String(result.mailboxes)],
    ['messages delivered', String(result.delivered)],
    ['round trips', `${result.roundTrips} (${result.verified} verified, ${result.payloadBytes}-byte payloads, one in flight)`],
    ['elapsed', `${result.elapsedMs.toFixed(1)} ms`],
    ['round trips/s', Number.isFinite(result.roundTripsPerSecond) ? String(Math.round(result.roundTripsPerSecond)) : 'n/a'],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return ['fos demo: an echo server (core 1) and a client (core 2) exchanging messages through ukSend', ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)].join('\n');
}
