// A local etcd for the peers benchmark: found on PATH (or ETCD_BIN), started on loopback with a
// temporary data directory on free ports, and always stopped.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** How long etcd may take to answer its first request after it was started, in ms. */
export const etcdStartMsMax = 20_000;
/** How long etcd may take to exit after SIGTERM before it is killed, in ms. */
export const etcdStopMsMax = 5_000;

/** A running etcd: its client endpoint, and how to stop it (and remove its data). */
export interface EtcdServer {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** The binary that runs, and its version line. */
  readonly binary: string;
  readonly version: string;
  /** The data directory (removed by `stop`). */
  readonly dataDirectory: string;
  stop(): Promise<void>;
}

/** The etcd binary to run: `ETCD_BIN` if set, else `etcd` on PATH; undefined with the reason when there is none. */
export function findEtcd(environment: NodeJS.ProcessEnv = process.env): { binary?: string; reason: string } {
  const explicit = environment['ETCD_BIN'];
  if (explicit !== undefined && explicit !== '')
    return isExecutable(explicit)
      ? { binary: explicit, reason: `ETCD_BIN=${explicit}` }
      : { reason: `ETCD_BIN=${explicit} is not an executable file` };
  for (const directory of (environment['PATH'] ?? '').split(delimiter)) {
    if (directory === '') continue;
    const candidate = join(directory, 'etcd');
    if (isExecutable(candidate)) return { binary: candidate, reason: `etcd on PATH: ${candidate}` };
  }
  return { reason: 'etcd is not installed (no etcd on PATH, no ETCD_BIN); on Debian: apt-get install -y etcd-server' };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP port for etcd');
  return address.port;
}

/**
 * Starts `binary` as a one-member etcd on 127.0.0.1 (free client and peer ports, a fresh data
 * directory under the system's temporary directory) and waits until `ready(endpoint)` resolves; stops
 * it again if that fails. The caller must call `stop` (the benchmark does, in `finally`).
 */
export async function startEtcd(binary: string, ready: (endpoint: string) => Promise<void>): Promise<EtcdServer> {
  const version = await runForOutput(binary, ['--version']);
  const dataDirectory = await mkdtemp(join(tmpdir(), 'fos-bench-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const child = spawn(
    binary,
    [
      ...['--name', 'fos-bench', '--data-dir', dataDirectory, '--log-level', 'error'],
      ...['--listen-client-urls', endpoint, '--advertise-client-urls', endpoint],
      ...['--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer],
      ...['--initial-cluster', `fos-bench=${peer}`, '--initial-cluster-state', 'new'],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let errorText = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    errorText = (errorText + chunk.toString()).slice(-2_000);
  });
  // The bench process may end on an error before `stop`: never leave etcd behind.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    await stopChild(child);
    await rm(dataDirectory, { recursive: true, force: true });
  };
  try {
    await waitReady(
      child,
      () => ready(endpoint),
      () => errorText,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, binary, version: version.split('\n')[0] ?? '', dataDirectory, stop };
}

async function waitReady(child: ChildProcess, ready: () => Promise<void>, errorText: () => string): Promise<void> {
  const startedMs = performance.now();
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`etcd exited (${child.exitCode ?? child.signalCode}) before it was ready: ${errorText()}`);
    try {
      await ready();
      return;
    } catch (error) {
      if (performance.now() - startedMs > etcdStartMsMax)
        throw new Error(`etcd did not answer within ${etcdStartMsMax} ms: ${String(error)} ${errorText()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), etcdStopMsMax);
  await exited;
  clearTimeout(timer);
}

function runForOutput(binary: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(output.trim()) : reject(new Error(`${binary} ${args.join(' ')} exited ${code}`)),
    );
  });
}
