// `fos demo --machines N`: one instance over N OS processes on loopback. This process founds it
// (machine m0: the name service's first member, the echo fleet, the client); N - 1 `fos start`
// processes join it, each serving an echo member of its own (`--echo`). The client calls the echo of
// the last machine by name, through the proxies; then the machines leave cleanly (SIGTERM) and this
// one shuts down. A fresh cluster key lives in a temporary directory for the run.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FosError, type Clock } from '@fos/base';
import { readClusterKeyFile, writeClusterKeyFile } from '@fos/proxy';
import { boot, type Instance } from './boot.js';
import { callAndList, startEchoFleet, type DemoResult } from './demo.js';
import { echoFleetName } from './processes.js';

/** Machines a demo may span (this process and the `fos start` processes it launches). */
export const demoMachinesMax = 4;
/** Time a launched machine has to say it is up. */
export const demoMachineStartMs = 30_000;

/** What `fos demo --machines N` runs. */
export interface MachinesDemoOptions {
  /** Machines, 2..{@link demoMachinesMax}. */
  readonly machines: number;
  /** Round trips of the client (default `defaultDemoMessages`). */
  readonly messages?: number;
  /** Cores of this process's machine (default 4; the launched ones have 3). */
  readonly cores?: number;
  /** The `fos` command to launch (default: the built `cli.js` beside this module). */
  readonly cliModule?: string | URL;
  /** The module the demo's processes are spawned from (default: the built `processes.js` beside this module). */
  readonly processesModule?: string | URL;
  readonly wallClock?: Clock;
  /** Where the launched machines' lines go (default: nowhere). */
  readonly log?: (line: string) => void;
  /** Told, every `demoProgressEveryMs` of the client's run, about how far it got (a line to print). */
  readonly progress?: (line: string) => void;
}

interface Launched {
  readonly machine: string;
  readonly child: ChildProcess;
  readonly listen: string;
  readonly exited: Promise<number | null>;
}

/** Launches `fos start` as machine `machine` joining `join`, with an echo member; resolves once it is up. */
function launch(cli: string, machine: string, keyFile: string, joinAt: string, log: (line: string) => void) {
  const args = [cli, 'start', '--machine', machine, '--cluster-key', keyFile, '--join', joinAt];
  args.push('--listen', '127.0.0.1:0', '--cores', '3', '--echo');
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let output = '';
  const onOutput = (chunk: Buffer): void => {
    output += chunk.toString();
    for (const line of chunk.toString().split('\n')) if (line.trim() !== '') log(`  [${machine}] ${line}`);
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  return new Promise<Launched>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new FosError('TIMEOUT', `machine ${machine} did not start within ${demoMachineStartMs} ms: ${output}`));
    }, demoMachineStartMs);
    child.stdout.on('data', () => {
      const up = /fos: up .* listening on (\S+?);/.exec(output);
      if (up === null) return;
      clearTimeout(timer);
      resolve({ machine, child, listen: up[1]!, exited });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new FosError('UNREACHABLE', `machine ${machine} exited (${code}) before it was up: ${output}`));
    });
  });
}

/**
 * Runs the demo over `machines` machines; returns what `runDemo` returns, with the machines. Every
 * launched process is ended (SIGTERM: it leaves the instance cleanly) before this returns.
 */
export async function runMachinesDemo(options: MachinesDemoOptions): Promise<DemoResult> {
  if (!Number.isInteger(options.machines) || options.machines < 2 || options.machines > demoMachinesMax)
    throw new FosError('BAD_REQUEST', `demo: machines = ${options.machines} is not in 2..${demoMachinesMax}`, {
      value: options.machines,
    });
  const log = options.log ?? (() => {});
  const cores = options.cores ?? 4;
  const cli = fileURLToPath(options.cliModule ?? new URL('./cli.js', import.meta.url));
  const module = options.processesModule ?? new URL('./processes.js', import.meta.url);
  const directory = await mkdtemp(join(tmpdir(), 'fos-demo-'));
  const launched: Launched[] = [];
  let founder: Instance | undefined;
  try {
    const keyFile = join(directory, 'cluster.key');
    await writeClusterKeyFile(keyFile);
    founder = await boot({
      fabric: 'local',
      cores,
      machine: 'm0',
      listen: '127.0.0.1:0',
      clusterKey: await readClusterKeyFile(keyFile),
    });
    const nameService = founder.nameService!;
    const fleetMembers = await startEchoFleet(founder, module, nameService.rootCapability, cores);
    for (let index = 1; index < options.machines; index++)
      launched.push(await launch(cli, `m${index}`, keyFile, founder.cluster!.listen!, log));
    const target = `${echoFleetName}/${launched.at(-1)!.machine}`;
    // The request leaves this process through the proxy: its kernels deliver only the reply.
    const summary = await callAndList(founder, module, target, { ...options, deliveriesPerRoundTrip: 1 });
    return {
      ...summary,
      fleetMembers,
      target,
      machines: [
        { machine: 'm0', pid: process.pid, listen: founder.cluster!.listen! },
        ...launched.map((machine) => ({
          machine: machine.machine,
          pid: machine.child.pid ?? 0,
          listen: machine.listen,
        })),
      ],
    };
  } finally {
    for (const machine of [...launched].reverse()) {
      machine.child.kill('SIGTERM');
      await machine.exited;
    }
    await founder?.shutdown();
    await rm(directory, { recursive: true, force: true });
  }
}
