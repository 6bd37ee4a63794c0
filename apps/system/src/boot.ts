import { describeValue, FosError, isFosError, writeErrorLine } from '@fos/base';
import {
  coresMax,
  LocalFabric,
  Machine,
  SimFabric,
  SimWorld,
  WorkerFabric,
  workerCoresMax,
  type Capability,
  type Fabric,
  type KernelLimits,
  type MachineStats,
  type ProcessHandle,
  type SpawnOptions,
} from '@fos/microkernel';
import { resolveNameServiceLimits, type NameServiceLimits } from '@fos/name-service';
import { fsBlockCacheBlocksMax, FsFleet, fsMembersMax } from '@fos/fs';
import { netConnectionsLimitMax, netMembersMax, NetstackFleet } from '@fos/netstack';
import { tlsTransport, type ClusterKey, type ProxyTransport } from '@fos/proxy';
import { clusterMachineNameMax, MachineCluster } from './cluster.js';
import { NameServiceFleet } from './fleet.js';
import { z } from 'zod';

/** The levels of the instance's log lines, most severe first; `silent` lets none through. */
export const bootLogLevels = ['silent', 'error', 'info'] as const;

/** Which lines reach the log (see {@link BootOptions.logLevel}). */
export type BootLogLevel = (typeof bootLogLevels)[number];

/** Where the instance's log lines go: each with its level. */
export type BootLog = (line: string, level: 'error' | 'info') => void;

/** The environment variable that sets the log level when `logLevel` is not given. */
export const bootLogLevelEnv = 'FOS_LOG';

/** The fabrics `boot` can build: cores in this thread, seeded simulation, one worker thread per core. */
export const bootFabrics = ['local', 'sim', 'worker'] as const;

/** One of {@link bootFabrics}. */
export type BootFabric = (typeof bootFabrics)[number];

/** Cores of an instance when `cores` is not given. */
export const defaultCores = 4;

/**
 * Name-service members `boot` can start: 0 (a bare machine), 1 (one member over a local store, the
 * thesis's prototype) or more (a fleet over the replicated store, each member on its own core in turn).
 */
export const nameServersMax = 8;

interface CommonBootOptions {
  /** Cores of the machine, 1..coresMax (default {@link defaultCores}). */
  readonly cores?: number;
  /** The machine's name in mailbox locations (default `m0`). */
  readonly machine?: string;
  /** Kernel limits that replace the defaults of `defaultKernelLimits` (`@fos/microkernel`). */
  readonly limits?: Partial<KernelLimits>;
  /**
   * Name-service members to start, 0..{@link nameServersMax} (default 1): the first on
   * {@link nameServerCore}, member i on core i modulo the cores. Two or more form a fleet over the
   * replicated store.
   */
  readonly nameServers?: number;
  /** Name-service limits that replace the defaults of `@fos/name-service`. */
  readonly nameServiceLimits?: Partial<NameServiceLimits>;
  /**
   * Where this machine accepts the other machines of a multi-machine instance (`host:port`; with TLS,
   * port 0 takes a free port: see `Instance.cluster.listen`). A machine that listens and joins nothing
   * founds an instance. Needs `clusterKey` (or `transport`) and a `machine` name of its own.
   */
  readonly listen?: string;
  /**
   * The address of a machine of a running instance to join (§7.4): this machine learns the instance's
   * machines from it, starts its own name-service members (`nameServers`, at least 1), which join the
   * replicated store, and registers its proxy as `/sys/proxy/<machine>`.
   */
  readonly join?: string;
  /** The instance's secret (`readClusterKeyFile` of `@fos/proxy`): the TLS transport's pre-shared key. */
  readonly clusterKey?: ClusterKey;
  /** How machines reach each other (default: TLS with `clusterKey`); a `SimTransport` in a `SimWorld`. */
  readonly transport?: ProxyTransport;
  /**
   * Where the instance's log lines go, with their level: `error` (a process that crashed, with its
   * stack; a stray rejection) and `info` (a machine of a multi-machine instance reporting
   * connections, joins and leaves). Default: stderr.
   */
  readonly log?: BootLog;
  /**
   * Which lines reach `log`: `silent` (none), `error`, or `info` (all). Default: the `FOS_LOG`
   * environment variable, else `info` when `log` is given and `error` when it is not.
   */
  readonly logLevel?: BootLogLevel;
  /**
   * Spawn test agents (`@fos/system/testing`) that other machines ask for (`peerMachine`): for
   * multi-machine tests only, since any holder of the cluster key may then run agents here.
   */
  readonly agents?: boolean;
  /**
   * Start the file system (`@fos/fs`): a block device server over the tar image `image` (a host path;
   * on `local` and `sim` also its bytes) as `/sys/blockdev/0` and a fleet of `members` (default 1)
   * read-only file-system members under `/sys/fs`. Needs a name service (`nameServers` >= 1).
   */
  readonly fs?: BootFsOptions;
  /**
   * Start the network stack (`@fos/netstack`): netif, the one process that owns the host's sockets,
   * as `/sys/netif/0` (`/sys/netif/<machine>` in a multi-machine instance) and a netstack fleet of
   * `members` (default 1) under `/sys/netstack`. Needs a name service; not on `sim` (netif owns real
   * host sockets: a simulation uses `NetstackFleet` with a simulated wire).
   */
  readonly net?: BootNetOptions;
  /**
   * Start an HTTP file server (a fos process) that serves the files of `fs` on host port `port` (0:
   * the host picks; `Instance.http.port` says which) through `net`. Needs `fs`; starts `net` (with its
   * defaults) when it is not given.
   */
  readonly http?: BootHttpOptions;
}

/** The network stack `boot` starts (see `CommonBootOptions.net`). */
export interface BootNetOptions {
  /** Members of the fleet, 1..`netMembersMax` (default 1): member i on core `(1 + i) % cores`. */
  readonly members?: number;
  /** Connections netif holds at once (default `netConnectionsMax`). */
  readonly connectionsMax?: number;
}

/** The HTTP file server `boot` starts (see `CommonBootOptions.http`). */
export interface BootHttpOptions {
  /** The host port, 0..65535 (0: the host picks one). */
  readonly port: number;
  /** The address to listen on (default `127.0.0.1`). */
  readonly host?: string;
}

/** The HTTP file server of a booted instance: where it listens, and its process. */
export interface BootedHttp {
  readonly port: number;
  readonly host: string;
  readonly process: ProcessHandle;
}

/** The file system `boot` starts (see `CommonBootOptions.fs`). */
export interface BootFsOptions {
  readonly image: string | Uint8Array;
  /** Members of the fleet, 1..`fsMembersMax` (default 1): member i on core `(1 + i) % cores`. */
  readonly members?: number;
  /** Blocks of each member's block cache (default `fsBlockCacheBlocksDefault`). */
  readonly cacheBlocks?: number;
}

/** Every core in this thread, over `MessageChannel` ports (real time, real randomness). */
export interface LocalBootOptions extends CommonBootOptions {
  readonly fabric: 'local';
  /**
   * Accepted so that one options object can boot every fabric, and ignored: a local instance mints
   * capabilities from cryptographic randomness, never from a seed.
   */
  readonly seed?: number;
}

/** Seeded, deterministic cores: one seed replays one run. */
export type SimBootOptions = CommonBootOptions & { readonly fabric: 'sim' } & (
    | {
        /** The seed of every choice the simulation makes (a safe integer). Required without a `world`. */
        readonly seed: number;
        readonly world?: undefined;
      }
    | {
        /**
         * The simulated world this machine joins (its seed decides everything): machines of one world
         * share one network and one clock, and talk through their proxies over `simLinkPair` links.
         * The machine needs a name of its own in the world (`machine`).
         */
        readonly world: SimWorld;
        readonly seed?: undefined;
      }
  );

/**
 * One worker thread per core (real parallelism): every process is spawned from a module and an
 * exported entry, 1..`workerCoresMax` cores.
 */
export interface WorkerBootOptions extends CommonBootOptions {
  readonly fabric: 'worker';
  /** Accepted and ignored, as for `local`. */
  readonly seed?: number;
}

/** What `boot` takes. */
export type BootOptions = LocalBootOptions | SimBootOptions | WorkerBootOptions;

/** The running name service of an instance, as the booter holds it (§5.2): see {@link NameServiceFleet}. */
export type BootedNameService = NameServiceFleet;

/** Counters of a running instance. */
export interface InstanceStats extends MachineStats {
  /** The fabric's kind (`local`, `sim`, `worker`). */
  readonly fabric: string;
}

/**
 * A booted fos instance: one machine of per-core microkernels over a fabric. Later issues add the
 * name-service fleet and the other system services to what `boot` starts.
 */
export interface Instance<F extends Fabric = Fabric> {
  readonly machine: Machine;
  readonly fabric: F;
  /** The kernel capability of the machine (what the booter hands the first name server, §5.2). */
  readonly kernelCapability: Capability;
  /** The name service started by `boot` (this machine's members); undefined when booted with `nameServers: 0`. */
  readonly nameService: BootedNameService | undefined;
  /** The machine's place in a multi-machine instance (booted with `listen` or `join`); undefined otherwise. */
  readonly cluster: MachineCluster | undefined;
  /** The file-system fleet started by `boot` (option `fs`); undefined otherwise. */
  readonly fs: FsFleet | undefined;
  /** The network stack started by `boot` (options `net`, `http`); undefined otherwise. */
  readonly net: NetstackFleet | undefined;
  /** The HTTP file server started by `boot` (option `http`); undefined otherwise. */
  readonly http: BootedHttp | undefined;
  readonly cores: number;
  /** Starts a process: see `Machine.spawn`. */
  spawn(options: SpawnOptions): Promise<ProcessHandle>;
  /** Counters summed over every core. */
  stats(): InstanceStats;
  /**
   * Ends every process and closes the fabric (every port and timer); safe to call twice. A machine of
   * a multi-machine instance first leaves it cleanly (`MachineCluster.leave`: its names unregistered,
   * its members out of the fleet), then closes its connections.
   */
  shutdown(): Promise<void>;
}

const bootOptionsSchema = z.strictObject({
  fabric: z.enum(['local', 'sim', 'worker']),
  cores: z.number().int().min(1).max(coresMax).optional(),
  seed: z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER).optional(),
  world: z.instanceof(SimWorld).optional(),
  machine: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1..64 of [A-Za-z0-9_-]')
    .optional(),
  // Checked, with the same BAD_REQUEST, by the Machine (validateKernelLimits).
  limits: z.record(z.string(), z.unknown()).optional(),
  nameServers: z.number().int().min(0).max(nameServersMax).optional(),
  // Checked, with the same BAD_REQUEST, by the member (resolveNameServiceLimits).
  nameServiceLimits: z.record(z.string(), z.unknown()).optional(),
  listen: z.string().min(1).max(300).optional(),
  join: z.string().min(1).max(300).optional(),
  clusterKey: z
    .custom<ClusterKey>(
      (value) => typeof value === 'object' && value !== null && Buffer.isBuffer((value as ClusterKey).psk),
      'is not a cluster key (readClusterKeyFile)',
    )
    .optional(),
  transport: z
    .custom<ProxyTransport>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        typeof (value as ProxyTransport).connect === 'function' &&
        typeof (value as ProxyTransport).listen === 'function',
      'is not a ProxyTransport',
    )
    .optional(),
  log: z.custom<BootLog>((value) => typeof value === 'function', 'is not a function').optional(),
  logLevel: z.enum(bootLogLevels).optional(),
  agents: z.boolean().optional(),
  fs: z
    .strictObject({
      image: z.union([z.string().min(1).max(4096), z.instanceof(Uint8Array)]),
      members: z.number().int().min(1).max(fsMembersMax).optional(),
      cacheBlocks: z.number().int().min(1).max(fsBlockCacheBlocksMax).optional(),
    })
    .optional(),
  net: z
    .strictObject({
      members: z.number().int().min(1).max(netMembersMax).optional(),
      connectionsMax: z.number().int().min(1).max(netConnectionsLimitMax).optional(),
    })
    .optional(),
  http: z
    .strictObject({
      port: z.number().int().min(0).max(65_535),
      host: z.string().min(1).max(255).optional(),
    })
    .optional(),
});

/**
 * Boots a fos instance: builds the fabric and a {@link Machine} over it, then
 * starts the name service (one member on {@link nameServerCore}, handed the kernel capability, §5.2)
 * unless `nameServers` is 0. Throws `BAD_REQUEST`, naming the offending value, for options it cannot
 * honour; a name service that fails to start shuts the instance down and rejects with its error.
 *
 * @example
 * const fos = await boot({ fabric: 'local', cores: 4 });
 * const app = await fos.spawn({ module: new URL('./app.js', import.meta.url), entry: 'main', core: 1 });
 * await fos.shutdown();
 */
export async function boot(options: SimBootOptions): Promise<Instance<SimFabric>>;
export async function boot(options: LocalBootOptions): Promise<Instance<LocalFabric>>;
export async function boot(options: WorkerBootOptions): Promise<Instance<WorkerFabric>>;
export async function boot(options: BootOptions): Promise<Instance>;
export async function boot(options: BootOptions): Promise<Instance> {
  const parsed = parseBootOptions(options);
  // Checked before anything starts, so that bad limits are the booter's BAD_REQUEST, not a crash.
  if (parsed.nameServiceLimits !== undefined) resolveNameServiceLimits(parsed.nameServiceLimits);
  // Checked before anything starts too: a bad FOS_LOG is the booter's BAD_REQUEST.
  const log = bootLogger(parsed);
  const cores = parsed.cores ?? defaultCores;
  const fabric =
    parsed.world === undefined
      ? makeFabric(parsed.fabric, cores, parsed.seed)
      : parsed.world.fabric({ cores, machine: parsed.machine ?? 'm0' });
  const machine = new Machine({
    fabric,
    ...(parsed.machine === undefined ? {} : { machine: parsed.machine }),
    ...(parsed.limits === undefined ? {} : { limits: parsed.limits }),
    log: log.error,
  });
  let nameService: BootedNameService | undefined;
  let cluster: MachineCluster | undefined;
  const nameServers = parsed.nameServers ?? 1;
  if (parsed.listen !== undefined || parsed.join !== undefined) {
    try {
      cluster = await startCluster(machine, parsed, cores, log.info);
    } catch (error) {
      await machine.shutdown();
      throw error;
    }
    nameService = cluster.nameService;
  } else if (nameServers > 0) {
    try {
      nameService = await NameServiceFleet.start(machine, parsed.nameServers ?? 1, parsed.nameServiceLimits);
    } catch (error) {
      await machine.shutdown();
      throw error;
    }
  }
  const fs = parsed.fs === undefined ? undefined : await startFs(machine, parsed.fs, nameService!, cluster);
  const web =
    parsed.net === undefined && parsed.http === undefined
      ? undefined
      : await startNet(machine, parsed, nameService!, cluster, fs);
  return {
    machine,
    fabric,
    kernelCapability: machine.kernelCapability,
    nameService,
    cluster,
    fs,
    net: web?.net,
    http: web?.http,
    cores,
    spawn: (spawnOptions) => machine.spawn(spawnOptions),
    stats: () => ({ ...machine.stats(), fabric: fabric.kind }),
    shutdown: async () => {
      if (cluster !== undefined) {
        try {
          await cluster.leave();
        } catch (error) {
          log.error(`fos: machine ${machine.name} could not leave cleanly: ${(error as Error).message}`);
        }
      }
      // Processes end first (what they still send fails SHUTDOWN, quietly), then the connections go.
      fs?.stop();
      web?.net.stop();
      await machine.shutdown();
      await cluster?.close();
    },
  };
}

/**
 * Starts the file system of `boot({ fs })`; when it cannot, the machine leaves its instance and shuts
 * down, and the error is the booter's.
 */
async function startFs(
  machine: Machine,
  fs: NonNullable<ParsedBootOptions['fs']>,
  nameService: BootedNameService,
  cluster: MachineCluster | undefined,
): Promise<FsFleet> {
  try {
    return await FsFleet.start(machine, {
      image: fs.image,
      capability: nameService.rootCapability,
      ...(fs.members === undefined ? {} : { members: fs.members }),
      ...(fs.cacheBlocks === undefined ? {} : { cacheBlocks: fs.cacheBlocks }),
      // Machines of one instance each run a fleet of their own under /sys/fs.
      ...(cluster === undefined ? {} : { memberPrefix: `${machine.name}-`, device: machine.name }),
    });
  } catch (error) {
    await cluster?.leave().catch(() => undefined);
    await machine.shutdown();
    await cluster?.close();
    throw error;
  }
}

/**
 * Starts the network stack of `boot({ net })` and the HTTP file server of `boot({ http })`; when it
 * cannot, the machine leaves its instance and shuts down, and the error is the booter's.
 */
async function startNet(
  machine: Machine,
  parsed: ParsedBootOptions,
  nameService: BootedNameService,
  cluster: MachineCluster | undefined,
  fs: FsFleet | undefined,
): Promise<{ net: NetstackFleet; http: BootedHttp | undefined }> {
  const options = parsed.net ?? {};
  try {
    const net = await NetstackFleet.start(machine, {
      capability: nameService.rootCapability,
      ...(options.members === undefined ? {} : { members: options.members }),
      ...(options.connectionsMax === undefined ? {} : { connectionsMax: options.connectionsMax }),
      // Machines of one instance each run a netif and members of their own under /sys/netstack.
      ...(cluster === undefined ? {} : { memberPrefix: `${machine.name}-`, netif: machine.name }),
    });
    if (parsed.http === undefined || fs === undefined) return { net, http: undefined };
    const process = await machine.spawn({
      core: 2 % machine.coreCount,
      name: 'http',
      module: new URL('./processes.js', import.meta.url),
      entry: 'httpFileServer',
      args: { ...parsed.http },
    });
    const listening = process.result as { port: number; host: string };
    return { net, http: { port: listening.port, host: listening.host, process } };
  } catch (error) {
    await cluster?.leave().catch(() => undefined);
    await machine.shutdown();
    await cluster?.close();
    throw error;
  }
}

/** The instance's two loggers: each passes its lines on when the level lets them through. */
function bootLogger(parsed: { readonly log?: BootLog | undefined; readonly logLevel?: BootLogLevel | undefined }): {
  readonly error: (line: string) => void;
  readonly info: (line: string) => void;
} {
  const fromEnv = process.env[bootLogLevelEnv];
  if (parsed.logLevel === undefined && fromEnv !== undefined && !(bootLogLevels as readonly string[]).includes(fromEnv))
    throw new FosError(
      'BAD_REQUEST',
      `${bootLogLevelEnv}=${JSON.stringify(fromEnv)} is not one of ${bootLogLevels.join(', ')}`,
      {
        value: fromEnv,
      },
    );
  const level =
    parsed.logLevel ?? (fromEnv as BootLogLevel | undefined) ?? (parsed.log === undefined ? 'error' : 'info');
  const sink: BootLog = parsed.log ?? ((line) => writeErrorLine(line));
  const rank = (each: BootLogLevel) => bootLogLevels.indexOf(each);
  const at = (lineLevel: 'error' | 'info') => (line: string) => {
    if (rank(lineLevel) <= rank(level)) sink(line, lineLevel);
  };
  return { error: at('error'), info: at('info') };
}

/** Starts the machine's proxy and name service as one machine of a multi-machine instance. */
function startCluster(
  machine: Machine,
  parsed: ParsedBootOptions,
  cores: number,
  log: (line: string) => void,
): Promise<MachineCluster> {
  const prefix = `${machine.name}-`;
  const nameServers = parsed.nameServers ?? 1;
  return MachineCluster.start(machine, {
    transport: parsed.transport ?? tlsTransport(parsed.clusterKey!),
    listen: parsed.listen,
    join: parsed.join,
    core: cores - 1,
    log,
    agents: parsed.agents === true,
    startNameService: (invitation) =>
      invitation === undefined
        ? NameServiceFleet.start(machine, nameServers, parsed.nameServiceLimits, { fleet: true, memberPrefix: prefix })
        : NameServiceFleet.join(machine, nameServers, parsed.nameServiceLimits, invitation, prefix),
  });
}

function bootRefusal(options: object, issue: z.core.$ZodIssue | undefined): FosError {
  const path = issue?.path ?? [];
  const offending = issue?.code === 'unrecognized_keys' ? issue.keys[0] : valueAt(options, path);
  const where =
    issue?.code === 'unrecognized_keys'
      ? `option ${describeValue(offending)}`
      : `option ${path.map(String).join('.')} = ${describeValue(offending)}`;
  return new FosError('BAD_REQUEST', `boot: ${where} is invalid: ${issue?.message ?? 'invalid'}`, { value: offending });
}

type ParsedBootOptions = z.infer<typeof bootOptionsSchema> & { fabric: BootFabric };

function parseBootOptions(options: unknown): ParsedBootOptions {
  if (typeof options !== 'object' || options === null)
    throw new FosError('BAD_REQUEST', `boot options must be an object, not ${describeValue(options)}`, {
      value: options,
    });
  let data: z.infer<typeof bootOptionsSchema>;
  try {
    const parsed = bootOptionsSchema.safeParse(options);
    // zod words an issue when it is read, from the value: inside the try too.
    if (!parsed.success) throw bootRefusal(options, parsed.error.issues[0]);
    data = parsed.data;
  } catch (error) {
    if (isFosError(error)) throw error;
    throw new FosError('BAD_REQUEST', `boot options ${describeValue(options)} cannot be read`, { value: options });
  }
  if (data.world !== undefined && (data.fabric !== 'sim' || data.seed !== undefined)) {
    throw new FosError(
      'BAD_REQUEST',
      'boot: option world is for fabric "sim" only, and replaces its seed (the world has one)',
      { value: data.seed ?? data.fabric },
    );
  }
  if (data.listen !== undefined || data.join !== undefined) checkClusterOptions(data);
  if (data.fs !== undefined && data.nameServers === 0)
    throw new FosError('BAD_REQUEST', 'boot: option fs needs a name service (nameServers >= 1)', { value: 0 });
  if ((data.net !== undefined || data.http !== undefined) && data.nameServers === 0)
    throw new FosError('BAD_REQUEST', 'boot: options net and http need a name service (nameServers >= 1)', {
      value: 0,
    });
  if ((data.net !== undefined || data.http !== undefined) && data.fabric === 'sim')
    throw new FosError(
      'BAD_REQUEST',
      'boot: options net and http own host sockets, which a simulation cannot (use NetstackFleet with a simulated wire)',
      { value: data.fabric },
    );
  if (data.http !== undefined && data.fs === undefined)
    throw new FosError('BAD_REQUEST', 'boot: option http serves the files of option fs, which is missing', {
      value: data.http,
    });
  if (data.fs !== undefined && data.fabric === 'worker' && typeof data.fs.image !== 'string')
    throw new FosError(
      'BAD_REQUEST',
      'boot: option fs.image is a host path on fabric "worker" (bytes are served from memory in this thread: local and sim only)',
      { value: data.fs.image },
    );
  if (data.fabric === 'worker' && data.cores !== undefined && data.cores > workerCoresMax) {
    throw new FosError(
      'BAD_REQUEST',
      `boot: option cores = ${data.cores} is invalid: a worker instance has at most workerCoresMax (${workerCoresMax}) cores`,
      { value: data.cores },
    );
  }
  return { ...data, fabric: data.fabric };
}

/** A machine of a multi-machine instance needs a way to reach the others, a name of its own and a member. */
function checkClusterOptions(data: z.infer<typeof bootOptionsSchema>): void {
  const refuse = (why: string, value: unknown): never => {
    throw new FosError('BAD_REQUEST', `boot: ${why}`, { value });
  };
  if (data.fabric === 'worker')
    refuse(
      'a machine of a multi-machine instance runs on fabric "local" or "sim" (its proxy lives in the booting thread)',
      data.fabric,
    );
  if (data.transport === undefined && data.clusterKey === undefined)
    refuse('a machine that listens or joins needs clusterKey (readClusterKeyFile) or a transport', data.clusterKey);
  if (data.machine === undefined || data.machine.length > clusterMachineNameMax)
    refuse(
      `a machine of a multi-machine instance needs a machine name of its own, 1..clusterMachineNameMax (${clusterMachineNameMax}) characters`,
      data.machine,
    );
  if (data.nameServers === 0)
    refuse('every machine of a multi-machine instance runs a name-service member (nameServers >= 1)', 0);
}

function makeFabric(kind: BootFabric, cores: number, seed: number | undefined): Fabric {
  if (kind === 'sim') return new SimFabric({ cores, seed: requireSeed(seed) });
  if (kind === 'worker') return new WorkerFabric({ cores });
  return new LocalFabric({ cores });
}

function requireSeed(seed: number | undefined): number {
  if (seed === undefined)
    throw new FosError('BAD_REQUEST', 'boot: fabric "sim" needs a seed (a safe integer): one seed replays one run', {
      value: seed,
    });
  return seed;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
