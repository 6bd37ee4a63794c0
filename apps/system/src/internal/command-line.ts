import { parseArgs } from 'node:util';
import { coresMax } from '@fos/microkernel';
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
    }
  | { readonly kind: 'cluster-init'; readonly file: string };

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
  fos <command> --help
  fos --help

Commands:
  demo    boot an instance with its name service, call an echo fleet by name, print the name space and exit
  start   boot an instance and keep it up until SIGINT or SIGTERM, then shut it down; with --listen
          or --join, one machine of an instance that spans several
  cluster init FILE
          write a new cluster key file (the secret of a multi-machine instance)

A bare "--" is ignored wherever it appears.`;

export const demoHelp = `fos demo — boot an instance, run an echo workload, print a summary, exit

Usage:
  fos demo [--cores N] [--messages N] [--fabric local|sim|worker] [--seed N] [--name-servers N]
  fos demo --machines N [--messages N]

Options:
  --cores N            cores of the instance, ${demoCoresMin}..${coresMax} (default 4)
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
  -h, --help           this help

On SIGINT or SIGTERM a machine of a multi-machine instance leaves it cleanly (its names are
unregistered, its name-service members leave the fleet), then shuts down.`;

export const clusterHelp = `fos cluster init — write a new cluster key file

Usage:
  fos cluster init FILE

Writes a fresh random secret to FILE, readable by its owner only (mode 600), and never overwrites a
file. Copy it to every machine of the instance over a secure channel and start each one with
--cluster-key FILE. To rotate: write a new file, then restart the machines with it.`;

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
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parses the arguments of `fos` (without `node` and the script). Throws {@link UsageError}. */
export function parseCommandLine(argv: readonly string[]): Command {
  // pnpm and turbo pass a bare `--` through; it never means anything to fos.
  const args = argv.filter((arg) => arg !== '--');
  const [first, ...rest] = args;
  if (first === undefined) throw new UsageError('missing command', mainHelp);
  if (first === '--help' || first === '-h' || first === 'help') return { kind: 'help', text: mainHelp };
  switch (first) {
    case 'demo':
      return parseDemo(rest);
    case 'start':
      return parseStart(rest);
    case 'cluster':
      return parseCluster(rest);
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
