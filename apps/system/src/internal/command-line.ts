import { parseArgs } from 'node:util';
import { fsMembersMax } from '@fos/fs';
import { netMembersMax } from '@fos/netstack';
import { coresMax, workerCoresMax } from '@fos/microkernel';
import { defaultCores, nameServersMax, type BootFabric } from '../boot.js';
import { clusterMachineNameMax } from '../cluster.js';
import { demoMachinesMax } from '../demo-machines.js';
import { defaultDemoMessages, demoCoresMin } from '../demo.js';
import { demoMessagesMax } from '../processes.js';

/** The seed of `fos demo --fabric sim` when `--seed` is not given: a fixed one, so runs repeat. */
export const defaultDemoSeed = 1;

/** What the command line asks for. */
export type Command =
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'version' }
  | {
      readonly kind: 'demo';
      readonly cores: number;
      readonly messages: number;
      readonly fabric: BootFabric;
      readonly seed: number | undefined;
      readonly nameServers: number;
      /** Machines, each an OS process (1: this one only). */
      readonly machines: number;
    }
  | {
      readonly kind: 'start';
      readonly cores: number;
      readonly fabric: 'local' | 'worker';
      readonly nameServers: number;
      /** The machine's name (required with --listen or --join). */
      readonly machine: string | undefined;
      readonly listen: string | undefined;
      readonly join: string | undefined;
      /** The cluster key file (required with --listen or --join). */
      readonly clusterKeyFile: string | undefined;
      /** Answer other machines' requests to spawn test agents (multi-machine tests only). */
      readonly agents: boolean;
      /** Serve an echo member `/sys/echo/<machine>` in the fleet `/sys/echo`. */
      readonly echo: boolean;
      /** A tar image to serve as the file system (`/sys/fs`), and the members of its fleet. */
      readonly fsImage: string | undefined;
      readonly fsMembers: number;
      /** Serve the image's files over HTTP on this host port (`--http`), through the netstack fleet. */
      readonly httpPort: number | undefined;
      /** Members of the netstack fleet (`--net-members`); the network stack runs when either is given. */
      readonly netMembers: number | undefined;
    }
  | { readonly kind: 'cluster-init'; readonly file: string }
  | {
      readonly kind: 'fs';
      /** `ls`: a directory's names; `cat`: a file's bytes to stdout; `stat`: a path's metadata. */
      readonly verb: 'ls' | 'cat' | 'stat';
      readonly image: string;
      readonly path: string;
      readonly members: number;
    };

/** A command line the `fos` command cannot run: printed on stderr, exit status 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** What to read next (the help of the command at fault). */
    readonly hint: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export const mainHelp = `fos — the factored operating system (fos) on Node.js

Usage:
  fos demo  [--cores N] [--messages N] [--fabric local|sim|worker] [--seed N] [--name-servers N]
  fos demo  --machines N [--messages N]
  fos start [--fabric local|worker] [--cores N] [--name-servers N]
            [--machine NAME --cluster-key FILE [--listen HOST:PORT] [--join HOST:PORT]]
  fos cluster init FILE
  fos fs ls|cat|stat IMAGE [PATH] [--members N]
  fos start ... [--fs-image FILE [--fs-members N] [--http PORT]] [--net-members N]
  fos <command> --help
  fos --help
  fos --version

Commands:
  demo    boot an instance with its name service, call an echo fleet by name, print the name space and exit
  start   boot an instance and keep it up until SIGINT or SIGTERM, then shut it down; with --listen
          or --join, one machine of an instance that spans several
  cluster init FILE
          write a new cluster key file (the secret of a multi-machine instance)
  fs      boot an instance over a tar image (its file-system fleet) and list a directory, print a
          file or its metadata, read through fos

A bare "--" is ignored wherever it appears.`;

export const demoHelp = `fos demo — boot an instance, run an echo workload, print a summary, exit

Usage:
  fos demo [--cores N] [--messages N] [--fabric local|sim|worker] [--seed N] [--name-servers N]
  fos demo --machines N [--messages N]

Options:
  --cores N            cores of the instance, ${demoCoresMin}..${coresMax} (default 4; the worker fabric takes
                       at most ${workerCoresMax}: a thread per core)
  --messages N         round trips, one in flight, 64-byte payloads, 1..${demoMessagesMax} (default ${defaultDemoMessages})
  --fabric local|sim|worker
                       local: every core in this thread over MessageChannel (default);
                       sim: seeded, deterministic simulation; worker: a worker thread per core
  --seed N             seed of a sim run (default ${defaultDemoSeed}); sim only
  --name-servers N     name-service members, 1..${nameServersMax} (default 1); 2 or more: a fleet over the
                       replicated store (the printed name space says which member answered)
  --machines N         2..${demoMachinesMax}: one instance over N OS processes on loopback (TLS): this one and
                       N - 1 "fos start" processes that join it, each with an echo; the client calls the
                       last machine's echo by name, through the proxies (fabric local)
  -h, --help           this help`;

export const startHelp = `fos start — boot an instance and keep it up until SIGINT or SIGTERM

Usage:
  fos start [--fabric local|worker] [--cores N] [--name-servers N]
  fos start --machine NAME --cluster-key FILE --listen HOST:PORT              (found an instance)
  fos start --machine NAME --cluster-key FILE --join HOST:PORT [--listen ...]  (join one)

Options:
  --fabric local|worker
                       local: every core in this thread over MessageChannel (default);
                       worker: a worker thread per core (real parallelism); one machine only
  --cores N            cores of the instance, 1..${coresMax} (default ${defaultCores})
  --name-servers N     name-service members, 0..${nameServersMax} (default 1; at least 1 on a machine of
                       a multi-machine instance)
  --machine NAME       this machine's name, unique in the instance, 1..${clusterMachineNameMax} of [A-Za-z0-9_-]
  --cluster-key FILE   the instance's secret, written by "fos cluster init" (mode 600; never the key
                       itself on the command line)
  --listen HOST:PORT   accept the other machines here (TLS; port 0: any free port, printed)
  --join HOST:PORT     join the running instance that has a machine listening there
  --agents             answer other machines' requests to spawn test agents (@fos/system/testing);
                       for multi-machine tests only: any holder of the key may run agents here
  --echo               serve an echo member /sys/echo/<machine> in the fleet /sys/echo (a service
                       to try an instance with: it answers every request with its body)
  --fs-image FILE      serve the tar image FILE read-only: a block device server /sys/blockdev/0
                       and a file-system fleet /sys/fs (needs a name service)
  --fs-members N       members of the file-system fleet, 1..${fsMembersMax} (default 1)
  --http PORT          serve the files of --fs-image over HTTP on 127.0.0.1:PORT (0: any free
                       port, printed), from a fos process through the network stack: netif
                       /sys/netif/0 and the netstack fleet /sys/netstack (every connection a name)
  --net-members N      members of the netstack fleet, 1..${netMembersMax} (default 1); starts the
                       network stack without --http too
  -h, --help           this help

On SIGINT or SIGTERM a machine of a multi-machine instance leaves it cleanly (its names are
unregistered, its name-service members leave the fleet), then shuts down.`;

export const clusterHelp = `fos cluster init — write a new cluster key file

Usage:
  fos cluster init FILE

Writes a fresh random secret to FILE, readable by its owner only (mode 600), and never overwrites a
file. Copy it to every machine of the instance over a secure channel and start each one with
--cluster-key FILE. To rotate: write a new file, then restart the machines with it.`;

export const fsHelp = `fos fs — read a tar image through a fos file-system fleet

Usage:
  fos fs ls IMAGE [PATH]       the names in a directory of the image (default /)
  fos fs cat IMAGE PATH        a file's bytes, to stdout
  fos fs stat IMAGE PATH       a path's type, size, mode and time

Options:
  --members N          members of the file-system fleet, 1..${fsMembersMax} (default 2)
  -h, --help           this help

IMAGE is a tar file made with plain tar (ustar, pax or GNU format), for example
  tar -cf docs.tar README.md packages/*/README.md
The command boots an instance on this machine (fabric local), starts the block device server and the
fleet over IMAGE, reads through a client process's fs component, prints, and shuts down. Errors carry
the codes node:fs uses (ENOENT, ENOTDIR, EISDIR, ...).`;

/** Members of the fleet `fos fs` starts. */
export const fsCommandMembersDefault = 2;

const fsOptions = {
  members: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const demoOptions = {
  cores: { type: 'string' },
  'name-servers': { type: 'string' },
  messages: { type: 'string' },
  fabric: { type: 'string' },
  seed: { type: 'string' },
  machines: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const startOptions = {
  cores: { type: 'string' },
  'name-servers': { type: 'string' },
  fabric: { type: 'string' },
  machine: { type: 'string' },
  'cluster-key': { type: 'string' },
  listen: { type: 'string' },
  join: { type: 'string' },
  agents: { type: 'boolean' },
  echo: { type: 'boolean' },
  'fs-image': { type: 'string' },
  'fs-members': { type: 'string' },
  http: { type: 'string' },
  'net-members': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parses the arguments of `fos` (without `node` and the script). Throws {@link UsageError}. */
export function parseCommandLine(argv: readonly string[]): Command {
  // pnpm and turbo pass a bare `--` through; it never means anything to fos.
  const args = argv.filter((arg) => arg !== '--');
  const [first, ...rest] = args;
  if (first === undefined) throw new UsageError('missing command', mainHelp);
  if (first === '--help' || first === '-h' || first === 'help') return { kind: 'help', text: mainHelp };
  if (first === '--version' || first === '-v' || first === 'version') return { kind: 'version' };
  switch (first) {
    case 'demo':
      return parseDemo(rest);
    case 'start':
      return parseStart(rest);
    case 'cluster':
      return parseCluster(rest);
    case 'fs':
      return parseFs(rest);
    default:
      throw new UsageError(
        first.startsWith('-')
          ? `unknown option ${first} (options follow a command)`
          : `unknown command ${JSON.stringify(first)}`,
        mainHelp,
      );
  }
}

function parseDemo(args: string[]): Command {
  const values = parseOptions(args, demoOptions, 'demo', demoHelp);
  if (values.help === true) return { kind: 'help', text: demoHelp };
  const fabric = parseFabric(values.fabric ?? 'local', ['local', 'sim', 'worker'], demoHelp) as BootFabric;
  if (values.seed !== undefined && fabric !== 'sim')
    throw new UsageError('--seed applies to --fabric sim only', demoHelp);
  return {
    kind: 'demo',
    cores: values.cores === undefined ? 4 : parseInteger('--cores', values.cores, demoCoresMin, coresMax, demoHelp),
    messages:
      values.messages === undefined
        ? defaultDemoMessages
        : parseInteger('--messages', values.messages, 1, demoMessagesMax, demoHelp),
    fabric,
    seed:
      fabric === 'sim'
        ? values.seed === undefined
          ? defaultDemoSeed
          : parseInteger('--seed', values.seed, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, demoHelp)
        : undefined,
    nameServers: nameServersOption(values, 1, demoHelp),
    machines: machinesOption(values, fabric),
  };
}

function parseStart(args: string[]): Command {
  const values = parseOptions(args, startOptions, 'start', startHelp);
  if (values.help === true) return { kind: 'help', text: startHelp };
  const fabric = parseFabric(values.fabric ?? 'local', ['local', 'worker'], startHelp) as 'local' | 'worker';
  const text = (option: string): string | undefined => {
    const value = values[option];
    return typeof value === 'string' ? value : undefined;
  };
  const [machine, listen, join, clusterKeyFile] = [text('machine'), text('listen'), text('join'), text('cluster-key')];
  const clustered = listen !== undefined || join !== undefined;
  if (clustered) {
    if (clusterKeyFile === undefined)
      throw new UsageError(
        '--listen and --join need --cluster-key FILE (write one with "fos cluster init FILE")',
        startHelp,
      );
    if (machine === undefined) throw new UsageError('--listen and --join need --machine NAME', startHelp);
    if (fabric === 'worker') throw new UsageError('--listen and --join run on --fabric local only', startHelp);
  } else if (clusterKeyFile !== undefined || machine !== undefined || values.agents === true) {
    throw new UsageError('--machine, --cluster-key and --agents go with --listen or --join', startHelp);
  }
  if (values.echo === true && nameServersOption(values, 0, startHelp) === 0)
    throw new UsageError('--echo needs a name service (--name-servers 1 or more)', startHelp);
  const nameServers = nameServersOption(values, clustered ? 1 : 0, startHelp);
  const fsImage = text('fs-image');
  if (fsImage !== undefined && nameServers === 0)
    throw new UsageError('--fs-image needs a name service (--name-servers 1 or more)', startHelp);
  const fsMembersText = text('fs-members');
  if (fsMembersText !== undefined && fsImage === undefined)
    throw new UsageError('--fs-members goes with --fs-image FILE', startHelp);
  const httpText = text('http');
  if (httpText !== undefined && fsImage === undefined)
    throw new UsageError('--http serves the files of --fs-image FILE, which is missing', startHelp);
  const netMembersText = text('net-members');
  if (netMembersText !== undefined && nameServers === 0)
    throw new UsageError('--net-members needs a name service (--name-servers 1 or more)', startHelp);
  return {
    kind: 'start',
    fabric,
    cores: values.cores === undefined ? defaultCores : parseInteger('--cores', values.cores, 1, coresMax, startHelp),
    nameServers,
    machine,
    listen,
    join,
    clusterKeyFile,
    agents: values.agents === true,
    echo: values.echo === true,
    fsImage,
    fsMembers:
      fsMembersText === undefined ? 1 : parseInteger('--fs-members', fsMembersText, 1, fsMembersMax, startHelp),
    httpPort: httpText === undefined ? undefined : parseInteger('--http', httpText, 0, 65_535, startHelp),
    netMembers:
      netMembersText === undefined
        ? undefined
        : parseInteger('--net-members', netMembersText, 1, netMembersMax, startHelp),
  };
}

function parseFs(args: string[]): Command {
  const positionals = args.filter((arg) => !arg.startsWith('-'));
  const flags: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    if (!arg.startsWith('-')) continue;
    flags.push(arg);
    // The value of --members travels with it.
    if (arg === '--members' && index + 1 < args.length) {
      flags.push(args[index + 1] as string);
      positionals.splice(positionals.indexOf(args[index + 1] as string), 1);
      index++;
    }
  }
  const values = parseOptions(flags, fsOptions, 'fs', fsHelp);
  if (values.help === true) return { kind: 'help', text: fsHelp };
  const [verb, image, path, ...extra] = positionals;
  if (verb !== 'ls' && verb !== 'cat' && verb !== 'stat')
    throw new UsageError(`fs: unknown command ${JSON.stringify(verb ?? '')} (ls, cat or stat)`, fsHelp);
  if (image === undefined) throw new UsageError(`fs ${verb}: missing IMAGE (a tar file)`, fsHelp);
  if (verb !== 'ls' && path === undefined) throw new UsageError(`fs ${verb}: missing PATH`, fsHelp);
  if (extra.length > 0) throw new UsageError(`fs ${verb}: unexpected argument ${extra[0]}`, fsHelp);
  const members = values.members;
  return {
    kind: 'fs',
    verb,
    image,
    path: path ?? '/',
    members:
      typeof members === 'string'
        ? parseInteger('--members', members, 1, fsMembersMax, fsHelp)
        : fsCommandMembersDefault,
  };
}

function machinesOption(values: OptionValues, fabric: BootFabric): number {
  const text = values.machines;
  if (typeof text !== 'string') return 1;
  const machines = parseInteger('--machines', text, 1, demoMachinesMax, demoHelp);
  if (machines > 1 && fabric !== 'local')
    throw new UsageError('--machines runs on --fabric local (each machine its own OS process)', demoHelp);
  return machines;
}

function parseCluster(args: string[]): Command {
  if (args.includes('--help') || args.includes('-h')) return { kind: 'help', text: clusterHelp };
  const [verb, file, ...extra] = args;
  if (verb !== 'init') throw new UsageError(`cluster: unknown command ${JSON.stringify(verb ?? '')}`, clusterHelp);
  if (file === undefined || file.startsWith('-')) throw new UsageError('cluster init: missing FILE', clusterHelp);
  if (extra.length > 0) throw new UsageError(`cluster init: unexpected argument ${extra[0]}`, clusterHelp);
  return { kind: 'cluster-init', file };
}

function nameServersOption(values: OptionValues, minimum: number, help: string): number {
  const text = values['name-servers'];
  return typeof text === 'string' ? parseInteger('--name-servers', text, minimum, nameServersMax, help) : 1;
}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;
type OptionValues = Partial<Record<string, string | boolean>> & {
  help?: boolean;
  fabric?: string;
  cores?: string;
  messages?: string;
  seed?: string;
  machines?: string;
};

function parseOptions(args: string[], options: OptionSpec, command: string, help: string): OptionValues {
  try {
    const { values } = parseArgs({ args, options, strict: true, allowPositionals: false });
    return values;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: unknown }).code;
    // Node's own text suggests `--` to pass such an argument on, which fos ignores: say it plainly.
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
      throw new UsageError(`${command}: unknown option ${/'([^']*)'/.exec(message)?.[1] ?? message}`, help);
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL')
      throw new UsageError(`${command}: unexpected argument ${/'([^']*)'/.exec(message)?.[1] ?? message}`, help);
    throw new UsageError(`${command}: ${message}`, help);
  }
}

function parseFabric(value: string, allowed: readonly string[], help: string): string {
  if (allowed.includes(value)) return value;
  throw new UsageError(`--fabric ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`, help);
}

function parseInteger(option: string, text: string, min: number, max: number, help: string): number {
  const value = /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw new UsageError(`${option} ${JSON.stringify(text)} is not an integer in ${min}..${max}`, help);
  return value;
}
