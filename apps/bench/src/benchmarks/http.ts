// `http` (thesis §4.1): HTTP on fos. The fos HTTP file server (a fos process reading through the fs
// fleet, serving over fos sockets: netif, the netstack fleet, every connection a name) against plain
// Node `http` serving the same bytes from memory, both driven by the same load generator (autocannon)
// from this process. `http-keepalive`: 64 keep-alive connections fetching a 1 KiB file.
// `http-connections`: a new connection per request (so every request registers and unregisters a
// connection name through the name service); it also reports that register+unregister rate.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import autocannon from 'autocannon';
import { boot, type Instance } from '@fos/system';
import {
  formatResultLine,
  measureBenchmark,
  type Benchmark,
  type BenchmarkResult,
  type BenchmarkSuite,
  type RunOptions,
} from '../harness.js';

/** Settings of {@link http}. */
export interface HttpBenchSettings {
  /** Bytes of the file served. */
  readonly fileBytes: number;
  /** Keep-alive connections of `http-keepalive`. */
  readonly connections: number;
  /** Seconds of one round of `http-keepalive`. */
  readonly seconds: number;
  /** Requests in flight of `http-connections` (each on a connection of its own). */
  readonly connectionsInFlight: number;
  /** Requests of one round of `http-connections`. */
  readonly connectionRequests: number;
  /** Cores of the fos instance (worker fabric) and members of its netstack fleet. */
  readonly cores: number;
  readonly netMembers: number;
  readonly rounds: number;
  readonly warmupRounds: number;
}

export const httpBenchDefaults: HttpBenchSettings = Object.freeze({
  fileBytes: 1024,
  connections: 64,
  seconds: 3,
  connectionsInFlight: 16,
  connectionRequests: 1000,
  cores: 4,
  netMembers: 2,
  rounds: 3,
  warmupRounds: 1,
});

/** Requests per second autocannon reaches against `url` with `connections` keep-alive connections. */
async function keepAliveRate(url: string, connections: number, seconds: number): Promise<number> {
  const result = await autocannon({ url, connections, duration: seconds, pipelining: 1 });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`autocannon against ${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return result.requests.total / seconds;
}

/** Requests per second with a new connection per request, `inFlight` at a time. */
async function connectionRate(url: string, inFlight: number, requests: number): Promise<number> {
  let next = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const outgoing = request(url, { agent: false, headers: { connection: 'close' } }, (response) => {
        response.resume();
        response.on('end', () =>
          response.statusCode === 200 ? resolve() : reject(new Error(`${response.statusCode}`)),
        );
      });
      outgoing.on('error', reject);
      outgoing.end();
    });
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next++ < requests) await one();
    }),
  );
  return requests / ((performance.now() - start) / 1000);
}

/** Plain Node `http` serving `bytes` from memory on 127.0.0.1. */
async function plainServer(bytes: Buffer): Promise<{ url: string; server: Server }> {
  const server = createServer((_request, response) => {
    response.setHeader('content-type', 'text/plain; charset=utf-8');
    response.setHeader('content-length', bytes.length);
    response.end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/file.txt`, server };
}

/** The suite `http` of `pnpm bench`. */
export function http(overrides: Partial<HttpBenchSettings> = {}): BenchmarkSuite {
  const settings = { ...httpBenchDefaults, ...overrides };
  return {
    name: 'http',
    run: (options) => runHttp(settings, options),
  };
}

async function runHttp(
  settings: HttpBenchSettings,
  runOptions: Omit<RunOptions, 'resultsDirectory'>,
): Promise<Record<string, unknown>> {
  const print = runOptions.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const work = mkdtempSync(join(tmpdir(), 'fos-bench-http-'));
  const bytes = Buffer.alloc(settings.fileBytes, 'x');
  writeFileSync(join(work, 'file.txt'), bytes);
  execFileSync('tar', ['-cf', join(work, 'image.tar'), '-C', work, 'file.txt']);
  let instance: Instance | undefined;
  let plain: { url: string; server: Server } | undefined;
  try {
    instance = await boot({
      fabric: 'worker',
      cores: settings.cores,
      fs: { image: join(work, 'image.tar') },
      net: { members: settings.netMembers },
      http: { port: 0 },
    });
    plain = await plainServer(bytes);
    const fosUrl = `http://127.0.0.1:${instance.http!.port}/file.txt`;
    const plainUrl = plain.url;
    const benchmarks = httpBenchmarks(settings, fosUrl, plainUrl);
    const results: BenchmarkResult[] = [];
    for (const benchmark of benchmarks) {
      const result = await measureBenchmark(benchmark, runOptions);
      results.push(result);
      print(formatResultLine(result));
    }
    const connections = results[1] as BenchmarkResult;
    // Every connection is one register and one unregister of its name.
    const nameChanges = 2 * connections.value;
    print(
      `  http-connections drives ${nameChanges} name-service modifications/s (a register and an unregister per connection)`,
    );
    return { settings, results, nameChangesPerSecond: nameChanges };
  } finally {
    await new Promise<void>((resolve) => (plain === undefined ? resolve() : plain.server.close(() => resolve())));
    await instance?.shutdown();
    rmSync(work, { recursive: true, force: true });
  }
}

/** The two pairs: keep-alive requests, and a new connection per request. */
function httpBenchmarks(settings: HttpBenchSettings, fosUrl: string, plainUrl: string): Benchmark[] {
  const common = {
    fabric: 'worker',
    cores: settings.cores,
    netMembers: settings.netMembers,
    fileBytes: settings.fileBytes,
    fos: `the fos HTTP file server (a fos process: FosFs + FosNet + node:http) on a worker instance of ${settings.cores} cores, netif and ${settings.netMembers} netstack members, the file from a tar image through the fs fleet`,
    baseline: 'plain node:http in this process serving the same bytes from memory',
    loadGenerator: 'autocannon in this process (keep-alive); node:http requests with agent: false (new connections)',
  };
  return [
    {
      name: 'http-keepalive',
      unit: 'requests/s',
      baselineName: 'node-http-keepalive',
      settings: {
        ...common,
        connections: settings.connections,
        seconds: settings.seconds,
        goal: 'ratio >= 0.3',
      },
      rounds: settings.rounds,
      warmupRounds: settings.warmupRounds,
      run: async () => ({
        measured: () => keepAliveRate(fosUrl, settings.connections, settings.seconds),
        baseline: () => keepAliveRate(plainUrl, settings.connections, settings.seconds),
        close: async () => undefined,
      }),
    },
    {
      name: 'http-connections',
      unit: 'connections/s',
      baselineName: 'node-http-connections',
      settings: {
        ...common,
        inFlight: settings.connectionsInFlight,
        requests: settings.connectionRequests,
        names: 'each connection registers one name and unregisters it (2 name-service modifications)',
      },
      rounds: settings.rounds,
      warmupRounds: settings.warmupRounds,
      run: async () => ({
        measured: () => connectionRate(fosUrl, settings.connectionsInFlight, settings.connectionRequests),
        baseline: () => connectionRate(plainUrl, settings.connectionsInFlight, settings.connectionRequests),
        close: async () => undefined,
      }),
    },
  ];
}
