import type { ListResult } from '@fos/libfos-messaging';
import { assert, FosError, SystemClock, type Clock, type MessageBody } from '@fos/base';
import { formatLocation } from '@fos/microkernel';
import { z } from 'zod';
import { boot, nameServersMax, type BootFabric, type Instance } from './boot.js';
import { demoMessagesMax, echoFleetName } from './processes.js';

/** Bytes of each demo request's payload. */
export const demoPayloadBytes = 64;
/** Round trips of the demo when `messages` is not given. */
export const defaultDemoMessages = 10_000;

/** How long the demo's client keeps a Lookup's pick of an echo member (ms). */
export const demoLookupTtlMs = 50;
/** The most members of the demo's echo fleet, however many cores there are. */
export const demoFleetMembersMax = 8;
/**
 * Members of the demo's echo fleet (under {@link echoFleetName}) on `cores` cores: one on each core
 * between the name server's (core 0) and the client's (the last), at least 2 and at most
 * {@link demoFleetMembersMax}.
 */
export function demoFleetMembers(cores: number): number {
  return Math.min(demoFleetMembersMax, Math.max(2, cores - 2));
}
/** The name server runs on core 0, the fleet on the cores after it, the client on the last core. */
export const demoCoresMin = 3;

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
  /** Name-service members (default 1); 2 or more form a fleet over the replicated store. */
  readonly nameServers?: number;
  /**
   * The module the demo's processes are spawned from (default: the built `processes.js` beside this
   * module). Tests that run this file from source point it at the build.
   */
  readonly processesModule?: string | URL;
  /** Where elapsed time is read from (default: the system clock; a simulated run still takes real time). */
  readonly wallClock?: Clock;
  /** Told, every {@link demoProgressEveryMs} of a run, about how far it got (a line to print). */
  readonly progress?: (line: string) => void;
}

/** What the demo did. */
export interface DemoResult {
  readonly fabric: BootFabric;
  readonly cores: number;
  readonly seed: number | undefined;
  /** Processes alive when the workload ended (name server, fleet members, client). */
  readonly processes: number;
  /** Members of the echo fleet this instance started ({@link demoFleetMembers}). */
  readonly fleetMembers: number;
  readonly mailboxes: number;
  /** Messages the kernels delivered into mailboxes (requests, replies, name-service traffic). */
  readonly delivered: number;
  /** Deliveries the kernels refused. */
  readonly refused: number;
  readonly roundTrips: number;
  /** Replies the client checked against its requests. */
  readonly verified: number;
  /** Replies per fleet member. */
  readonly byMember: Record<string, number>;
  /** Lookups the client's libfos made (its name cache answered every other send). */
  readonly lookups: number;
  readonly payloadBytes: number;
  /** Wall-clock time of the workload. */
  readonly elapsedMs: number;
  readonly roundTripsPerSecond: number;
  /** The name space after the run, as the name service lists it. */
  readonly nameSpace: ListResult;
  /** What the client called by name (the echo fleet's name, or one member's on another machine). */
  readonly target?: string;
  /** The machines of a multi-machine demo (`runMachinesDemo`): this process first. */
  readonly machines?: readonly { readonly machine: string; readonly pid: number; readonly listen: string }[];
}

const demoOptionsSchema = z.object({
  cores: z.number().int().min(demoCoresMin).optional(),
  messages: z.number().int().min(1).max(demoMessagesMax).optional(),
  fabric: z.enum(['local', 'sim', 'worker']).optional(),
  nameServers: z.number().int().min(1).max(nameServersMax).optional(),
  progress: z.custom<(line: string) => void>((value) => typeof value === 'function', 'is not a function').optional(),
});

const clientResultSchema = z.object({
  roundTrips: z.number(),
  payloadBytes: z.number(),
  verified: z.number(),
  byMember: z.record(z.string(), z.number()),
  lookups: z.number(),
  machineElapsedMs: z.number(),
});

const listResultSchema = z.object({
  names: z.array(
    z.object({
      name: z.string(),
      type: z.enum(['direct', 'indirect', 'reservation']),
      active: z.boolean(),
      location: z.object({ machine: z.string(), core: z.number(), mailbox: z.number() }).optional(),
      destinations: z.array(z.object({ name: z.string(), weight: z.number() })).optional(),
    }),
  ),
  truncated: z.boolean(),
  tableHash: z.string(),
  member: z.string(),
});

/**
 * Boots an instance with its name service, reserves `/sys/*`, starts an echo fleet of
 * {@link demoFleetMembers}`(cores)` members registered under {@link echoFleetName}, lets a client on the last
 * core make `messages` round trips by name ({@link demoPayloadBytes}-byte payloads, one in flight),
 * lists the name space, and shuts the instance down. `BAD_REQUEST` for bad options.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  checkDemoOptions(options);
  const cores = options.cores ?? 4;
  const fabric = options.fabric ?? 'local';
  const nameServers = options.nameServers ?? 1;
  // A Lookup's pick lives in the client's cache for its TTL: the demo's short one shows the fleet's
  // balancing within a run of a second (the default keeps a pick for 10 s).
  const nameServiceLimits = { lookupTtlMs: demoLookupTtlMs };
  const instance =
    fabric === 'sim' && options.seed !== undefined
      ? await boot({ fabric: 'sim', cores, seed: options.seed, nameServers, nameServiceLimits })
      : await boot({ fabric: fabric === 'worker' ? 'worker' : 'local', cores, nameServers, nameServiceLimits });
  try {
    const nameService = instance.nameService;
    assert(nameService !== undefined, 'the demo boots with a name service');
    const module = options.processesModule ?? new URL('./processes.js', import.meta.url);
    const fleetMembers = await startEchoFleet(instance, module, nameService.rootCapability, cores);
    const summary = await callAndList(instance, module, echoFleetName, options);
    return { ...summary, fleetMembers, fabric, seed: fabric === 'sim' ? options.seed : undefined };
  } finally {
    await instance.shutdown();
  }
}

/**
 * The demo's workload on `instance`: a client on the last core calls `target` by name `messages`
 * times and checks every reply, then the name space is listed from that core (with a fleet, whichever
 * member that core reaches answers). Returns what the run counted.
 */
export async function callAndList(
  instance: Instance,
  module: string | URL,
  target: string,
  options: {
    readonly messages?: number;
    readonly wallClock?: Clock;
    readonly progress?: (line: string) => void;
    /**
     * Deliveries this instance's kernels make per round trip, for progress lines: 2 (the request and
     * the reply) when the target is on this instance's machines (default), 1 when the request leaves
     * through the proxy to another OS process.
     */
    readonly deliveriesPerRoundTrip?: 1 | 2;
  },
): Promise<Omit<DemoResult, 'fleetMembers'>> {
  const core = instance.cores - 1;
  const wallClock = options.wallClock ?? new SystemClock();
  const messages = options.messages ?? defaultDemoMessages;
  const startedMs = wallClock.now();
  const stopProgress =
    options.progress === undefined
      ? () => undefined
      : reportProgress(instance, wallClock, messages, options.deliveriesPerRoundTrip ?? 2, options.progress);
  const client = await instance
    .spawn({
      core,
      module,
      entry: 'demoClient',
      name: 'client',
      args: { fleet: target, messages, payloadBytes: demoPayloadBytes },
    })
    .finally(stopProgress);
  const elapsedMs = wallClock.now() - startedMs;
  const clientResult = parseResult('the client', clientResultSchema, client.result);
  assert(clientResult.verified === clientResult.roundTrips, 'every reply was checked');
  const listing = await instance.spawn({
    core,
    module,
    entry: 'nameSpaceListing',
    name: 'list',
    args: { capability: instance.nameService!.managementCapability },
  });
  return demoSummaryOf(instance, elapsedMs, clientResult, listing.result);
}

/** How often a long demo run says how far it got (ms). */
export const demoProgressEveryMs = 2_000;

/**
 * Every {@link demoProgressEveryMs} until stopped, `print`s about how many of `messages` round trips
 * are done, from the instance's delivery count (`perRoundTrip` deliveries each), and the time so far.
 * Returns the function that stops it.
 */
function reportProgress(
  instance: Instance,
  wallClock: Clock,
  messages: number,
  perRoundTrip: number,
  print: (line: string) => void,
): () => void {
  const startedMs = wallClock.now();
  const deliveredBefore = instance.stats().delivered;
  let timer: { cancel(): void } | undefined;
  const tick = () => {
    const done = Math.min(messages, Math.floor((instance.stats().delivered - deliveredBefore) / perRoundTrip));
    const seconds = Math.round((wallClock.now() - startedMs) / 1000);
    print(`fos demo: about ${done} of ${messages} round trips after ${seconds} s`);
    timer = wallClock.setTimer(demoProgressEveryMs, tick);
  };
  timer = wallClock.setTimer(demoProgressEveryMs, tick);
  return () => timer?.cancel();
}

/** What a demo run counted: the instance's counters, the client's results and the listing. */
function demoSummaryOf(
  instance: Instance,
  elapsedMs: number,
  clientResult: z.infer<typeof clientResultSchema>,
  listing: MessageBody,
): Omit<DemoResult, 'fleetMembers'> {
  const stats = instance.stats();
  return {
    fabric: 'local',
    cores: instance.cores,
    seed: undefined,
    processes: stats.processes,
    mailboxes: stats.mailboxes,
    delivered: stats.delivered,
    refused: stats.refused,
    roundTrips: clientResult.roundTrips,
    verified: clientResult.verified,
    byMember: clientResult.byMember,
    lookups: clientResult.lookups,
    payloadBytes: clientResult.payloadBytes,
    elapsedMs,
    roundTripsPerSecond: elapsedMs > 0 ? clientResult.roundTrips / (elapsedMs / 1000) : Number.POSITIVE_INFINITY,
    nameSpace: parseResult('the name service', listResultSchema, listing) as ListResult,
  };
}

/** `BAD_REQUEST` naming the first bad option, or a sim run without its seed. */
function checkDemoOptions(options: DemoOptions): void {
  const parsed = demoOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? 'options');
    throw new FosError(
      'BAD_REQUEST',
      `demo: ${key} = ${String((options as Record<string, unknown>)[key])} is invalid: ${issue?.message ?? 'invalid'}`,
      { value: (options as Record<string, unknown>)[key] },
    );
  }
  if (options.fabric === 'sim' && options.seed === undefined)
    throw new FosError('BAD_REQUEST', 'demo: fabric "sim" needs a seed: one seed replays one run', {
      value: options.seed,
    });
}

/**
 * Reserves `/sys/*` and starts the echo fleet's {@link demoFleetMembers}`(cores)` members, one on each
 * core after the name service's and before the client's (on 3 cores, both on core 1); answers how many.
 */
export async function startEchoFleet(
  instance: Instance,
  module: string | URL,
  rootCapability: string,
  cores: number,
): Promise<number> {
  const sys = await instance.spawn({
    core: 1,
    module,
    entry: 'reserveDomain',
    name: 'reserve-sys',
    args: { domain: '/sys/*', capability: rootCapability },
  });
  const sysCapability = (sys.result as { capability: string }).capability;
  const members = demoFleetMembers(cores);
  for (let index = 1; index <= members; index++) {
    const core = 1 + ((index - 1) % Math.max(1, cores - 2));
    await instance.spawn({
      core,
      module,
      entry: 'echoMember',
      name: `echo-${index}`,
      args: { name: `${echoFleetName}/${index}`, fleet: echoFleetName, capability: sysCapability, weight: 1 },
    });
  }
  return members;
}

function parseResult<T>(who: string, schema: z.ZodType<T>, result: MessageBody): T {
  const parsed = schema.safeParse(result);
  if (!parsed.success)
    throw new FosError('BAD_REQUEST', `demo: ${who} returned ${JSON.stringify(result)}, not what the demo expects`, {
      value: result,
    });
  return parsed.data;
}

/**
 * The name space as a tree: one line per entry, indented by depth, with its type, and a direct name's
 * mailbox or an indirect name's destinations and weights (inactive entries are marked).
 */
export function formatNameTree(listing: ListResult): string {
  const rows = listing.names.map((entry) => {
    const depth =
      entry.name.split('/').filter((segment) => segment !== '' && segment !== '*').length -
      (entry.name.endsWith('/*') ? 0 : 1);
    const label = `${'  '.repeat(Math.max(depth, 0))}${entry.name}`;
    let detail: string = entry.type;
    if (entry.type === 'direct' && entry.location !== undefined)
      detail = `direct    → mailbox ${formatLocation(entry.location)}`;
    if (entry.type === 'indirect')
      detail = `indirect  → ${(entry.destinations ?? []).map((destination) => `${destination.name} (weight ${destination.weight})`).join(', ')}`;
    return [label, entry.active ? detail : `${detail} [inactive]`] as const;
  });
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = rows.map(([label, detail]) => `  ${label.padEnd(width)}  ${detail}`);
  if (listing.truncated) lines.push(`  … (more entries than one listing holds)`);
  return lines.join('\n');
}

/** The summary `fos demo` prints. */
export function formatDemoSummary(result: DemoResult): string {
  const rows: Array<[string, string]> = [
    ['fabric', result.seed === undefined ? result.fabric : `${result.fabric} (seed=${result.seed})`],
    ['cores', String(result.cores)],
    ['processes', String(result.processes)],
    ['mailboxes', String(result.mailboxes)],
    ['messages delivered', String(result.delivered)],
    [
      'round trips',
      `${result.roundTrips} (${result.verified} verified, ${result.payloadBytes}-byte payloads, one in flight)`,
    ],
    [
      'answered by',
      Object.entries(result.byMember)
        .sort(([left], [right]) => left.localeCompare(right))
        .map(([member, count]) => `${member} ${count}`)
        .join(', '),
    ],
    ['lookups', `${result.lookups} asked the name service; the client's name cache answered the other sends`],
    ['elapsed', `${result.elapsedMs.toFixed(1)} ms`],
    [
      'round trips/s',
      Number.isFinite(result.roundTripsPerSecond) ? String(Math.round(result.roundTripsPerSecond)) : 'n/a',
    ],
  ];
  if (result.machines !== undefined)
    rows.unshift([
      'machines',
      result.machines
        .map((info, index) => `${info.machine} (${index === 0 ? 'this process' : `pid ${info.pid}`}, ${info.listen})`)
        .join(', '),
    ]);
  const width = Math.max(...rows.map(([label]) => label.length));
  const headline =
    result.machines === undefined
      ? `an echo fleet of ${result.fleetMembers} under ${echoFleetName}, called by name from a client through its name cache`
      : `${result.machines.length} machines, each its own OS process; an echo on machine ${result.machines.at(-1)!.machine} (${result.target ?? ''}) called by name from a client on ${result.machines[0]!.machine}, through the proxies`;
  const story =
    result.machines === undefined
      ? [
          `  Each core runs a microkernel; processes share no memory and meet through mailboxes found by name.`,
          `  The echo fleet is ${result.fleetMembers} processes serving one name, ${echoFleetName}. The client on core ${result.cores - 1} sends to that`,
          `  name: its libfos asks the name service which member to use (a Lookup, picked by weight) and keeps`,
          `  the answer for ${demoLookupTtlMs} ms, so the load spreads over the members as the answers change.`,
        ]
      : [];
  return [
    `fos demo: ${headline}`,
    ...story,
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`),
    `name space (${result.nameSpace.names.length} entries, answered by name-service member ${result.nameSpace.member}; a mailbox is <machine>/<core>/<number>):`,
    formatNameTree(result.nameSpace),
  ].join('\n');
}
