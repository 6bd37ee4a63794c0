// `proxy`: two machines of one instance in this process, joined over TLS on loopback (their proxies),
// measured against the same echo over a bare TLS connection and over Moleculer's TCP transporter, and
// Lookups answered by the client's own machine against Lookups answered by the other machine.
import { createServer, type AddressInfo } from 'node:net';
import { assert, nameServiceName, SystemClock } from '@fos/base';
import { dispatcherTransport } from '@fos/dispatcher';
import { createNameServiceApiClient, type Libfos } from '@fos/libfos-messaging';
import type { Capability, MailboxLocation } from '@fos/microkernel';
import { connectTls, listenTls, newClusterKeyText, parseClusterKey, type ByteLink, type ClusterKey } from '@fos/proxy';
import { boot, type Instance } from '@fos/system';
import type { ServiceBroker } from 'moleculer';
import {
  formatResultLine,
  measureBenchmark,
  type Benchmark,
  type BenchmarkResult,
  type BenchmarkSuite,
  type RunOptions,
} from '../harness.js';
import { libfosOn, perSecond, serveNamed } from './naming.js';
import { inFlightRound } from './peers.js';

/** Settings of {@link proxy}. */
export interface ProxySettings {
  /** Round trips per round, for each number of messages in flight. */
  readonly roundTrips: number;
  /** Messages in flight, one result per value. */
  readonly inFlight: readonly number[];
  /** Characters of the string each echo carries (fos, TLS and Moleculer alike). */
  readonly payloadChars: number;
  /** Uncached Lookups per round of `proxy-lookup`. */
  readonly lookups: number;
  readonly rounds: number;
  readonly warmupRounds: number;
}

/** The defaults: a round of 2,000 round trips takes 0.1 to 1 s on a 2-core machine. */
export const proxyDefaults: ProxySettings = Object.freeze({
  roundTrips: 2_000,
  inFlight: Object.freeze([1, 16]),
  payloadChars: 64,
  lookups: 2_000,
  rounds: 5,
  warmupRounds: 1,
});

/** The goals: against a bare TLS echo (the proxy's cost over the wire itself), and against Moleculer. */
export const proxyTlsGoal = 0.5;
export const proxyMoleculerGoal = 2;

const echoName = '/bench/remote-echo';
/** Cores of each machine: the client or echo on core 1, the member on 0, the proxy on the last. */
const machineCores = 3;

/** Alpha (the echo, one member) and beta (the client, one member), joined over TLS on loopback. */
interface TwoMachines {
  readonly alpha: Instance;
  readonly beta: Instance;
  readonly client: Libfos;
  shutdown(): Promise<void>;
}

async function twoMachines(key: ClusterKey, payload: string): Promise<TwoMachines> {
  const alpha = await boot({
    fabric: 'local',
    cores: machineCores,
    machine: 'alpha',
    listen: '127.0.0.1:0',
    clusterKey: key,
  });
  let beta: Instance | undefined;
  try {
    beta = await boot({
      fabric: 'local',
      cores: machineCores,
      machine: 'beta',
      join: alpha.cluster!.listen!,
      clusterKey: key,
    });
    const echo = await libfosOn(alpha, 1, 'bench-echo');
    await serveNamed(echo, echoName, alpha.nameService!.rootCapability);
    const client = await libfosOn(beta, 1, 'bench-client');
    // The cache holds the echo's entry, and the client has its reply name (replies cross machines by name).
    for (let index = 0; index < 10; index++) assert((await client.call(echoName, payload)).body === payload, 'echo');
    const machines = beta;
    return {
      alpha,
      beta,
      client,
      shutdown: async () => {
        await machines.shutdown();
        await alpha.shutdown();
      },
    };
  } catch (error) {
    await beta?.shutdown();
    await alpha.shutdown();
    throw error;
  }
}

/** `total` calls of the echo by name from beta's client, `inFlight` at once, each in a dispatcher thread. */
function fosRound(client: Libfos, payload: string, total: number, inFlight: number, clock: SystemClock) {
  return inFlightRound(clock, total, inFlight, (next) =>
    client.dispatcher.spawnThread('proxy-roundtrip', async () => {
      for (let index = next(); index !== undefined; index = next())
        assert((await client.call(echoName, payload)).body === payload, 'the echo answers the payload');
    }),
  );
}

/** A bare TLS echo: the same key, suites and loopback as the proxies', messages of `bytes` bytes. */
async function tlsEcho(key: ClusterKey): Promise<{ client: ByteLink; close(): Promise<void> }> {
  const server = await listenTls({
    key,
    onLink: (link) => link.open({ data: (chunk) => link.write(chunk), drain: () => {}, closed: () => {} }),
  });
  return { client: await connectTls(server.address, key), close: () => server.close() };
}

/** `total` echoes of `bytes`-byte messages over `link`, `inFlight` outstanding. */
function tlsRound(link: ByteLink, bytes: number, total: number, inFlight: number, clock: SystemClock): Promise<number> {
  return new Promise((resolve) => {
    const message = new Uint8Array(bytes).fill(0x61);
    let sent = 0;
    let received = 0;
    const startedMs = clock.now();
    link.open({
      data: (chunk) => {
        received += chunk.length;
        const answered = Math.floor(received / bytes);
        while (sent < total && sent - answered < inFlight) {
          link.write(message);
          sent++;
        }
        if (answered === total) resolve(perSecond(total, clock.now() - startedMs));
      },
      drain: () => {},
      closed: () => {},
    });
    for (; sent < Math.min(inFlight, total); sent++) link.write(message);
  });
}

/** A free TCP port on loopback (for Moleculer, which wants its ports before it starts). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Two Moleculer brokers with the TCP transporter on loopback (static addresses, no UDP discovery). */
async function moleculerPair(): Promise<{ client: ServiceBroker; version: string; close(): Promise<void> }> {
  const moleculer = (await import('moleculer')).default;
  const [serverPort, clientPort] = [await freePort(), await freePort()];
  const broker = (nodeID: string, port: number, peer: string) =>
    new moleculer.ServiceBroker({
      nodeID,
      logger: false,
      metrics: false,
      tracing: false,
      transporter: {
        type: 'TCP',
        options: { udpDiscovery: false, useHostname: false, port, urls: [peer] },
      },
    });
  const server = broker('bench-echo', serverPort, `127.0.0.1:${clientPort}/bench-client`);
  server.createService({
    name: 'bench',
    actions: { echo: (context: { params: { payload: string } }) => context.params.payload },
  });
  const client = broker('bench-client', clientPort, `127.0.0.1:${serverPort}/bench-echo`);
  await Promise.all([server.start(), client.start()]);
  await client.waitForServices('bench', 30_000);
  return {
    client,
    version: moleculer.ServiceBroker.MOLECULER_VERSION,
    close: async () => {
      await client.stop();
      await server.stop();
    },
  };
}

/** `total` calls of the echo action, `inFlight` at once. */
function moleculerRound(broker: ServiceBroker, payload: string, total: number, inFlight: number, clock: SystemClock) {
  return inFlightRound(clock, total, inFlight, async (next) => {
    for (let index = next(); index !== undefined; index = next()) {
      const answer: string = await broker.call('bench.echo', { payload });
      assert(answer === payload, 'the action answers the payload');
    }
  });
}

function roundTripPair(settings: ProxySettings, inFlight: number, against: 'tls' | 'moleculer'): Benchmark {
  const clock = new SystemClock();
  const payload = 'x'.repeat(settings.payloadChars);
  const key = parseClusterKey(newClusterKeyText());
  return {
    name: against === 'tls' ? `proxy-roundtrip-${inFlight}` : `proxy-vs-moleculer-${inFlight}`,
    unit: 'roundtrips/s',
    baselineName: against === 'tls' ? `tls-echo-${inFlight}` : `moleculer-tcp-${inFlight}`,
    settings: {
      roundTrips: settings.roundTrips,
      inFlight,
      payloadChars: settings.payloadChars,
      fos: `libfos.call by name from machine beta to an echo on machine alpha, ${machineCores} cores each (LocalFabric), one process, TLS 1.3 PSK on loopback`,
      baseline:
        against === 'tls'
          ? `a bare TLS echo in the same process: the same key, suites and loopback, ${settings.payloadChars}-byte messages`
          : `Moleculer TCP transporter, two brokers in the same process on loopback, JSON, a ${settings.payloadChars}-character payload`,
      goal: `ratio >= ${against === 'tls' ? proxyTlsGoal : proxyMoleculerGoal}`,
    },
    rounds: settings.rounds,
    warmupRounds: settings.warmupRounds,
    run: async () => {
      const machines = await twoMachines(key, payload);
      const measured = () => fosRound(machines.client, payload, settings.roundTrips, inFlight, clock);
      try {
        if (against === 'tls') {
          const echo = await tlsEcho(key);
          return {
            measured,
            baseline: () => tlsRound(echo.client, settings.payloadChars, settings.roundTrips, inFlight, clock),
            close: async () => {
              echo.client.close('done');
              await echo.close();
              await machines.shutdown();
            },
          };
        }
        const pair = await moleculerPair();
        return {
          measured,
          baseline: () => moleculerRound(pair.client, payload, settings.roundTrips, inFlight, clock),
          close: async () => {
            await pair.close();
            await machines.shutdown();
          },
        };
      } catch (error) {
        await machines.shutdown();
        throw error;
      }
    },
  };
}

/** `total` uncached Lookups of the echo's name, one in flight, asked of the member at `member`. */
function lookupRound(
  client: Libfos,
  member: { location: MailboxLocation; capability: Capability },
  total: number,
  clock: SystemClock,
): Promise<number> {
  return client.dispatcher.spawnThread('proxy-lookup', async (thread) => {
    const api = createNameServiceApiClient(dispatcherTransport(() => thread, { name: nameServiceName, ...member }));
    const startedMs = clock.now();
    for (let index = 0; index < total; index++) {
      const found = await api.lookup(echoName);
      assert(found.type === 'direct', 'the echo is a direct name');
    }
    return perSecond(total, clock.now() - startedMs);
  });
}

function lookupPair(settings: ProxySettings): Benchmark {
  const clock = new SystemClock();
  const payload = 'x'.repeat(settings.payloadChars);
  return {
    name: 'proxy-lookup',
    unit: 'lookups/s',
    baselineName: 'proxy-lookup-remote',
    settings: {
      lookups: settings.lookups,
      inFlight: 1,
      fos: "a client on machine beta asks beta's member (measured) and alpha's member through the proxies (baseline), the same Lookup of the same name",
    },
    rounds: settings.rounds,
    warmupRounds: settings.warmupRounds,
    run: async () => {
      const machines = await twoMachines(parseClusterKey(newClusterKeyText()), payload);
      const memberOf = (instance: Instance) => {
        const fleet = instance.nameService!;
        return fleet.memberAddress(fleet.managementCapability, fleet.memberNames[0]!);
      };
      const [local, remote] = [memberOf(machines.beta), memberOf(machines.alpha)];
      return {
        measured: () => lookupRound(machines.client, local, settings.lookups, clock),
        baseline: () => lookupRound(machines.client, remote, settings.lookups, clock),
        close: () => machines.shutdown(),
      };
    },
  };
}

/**
 * `proxy`: one `RESULT` line per pair, in one run.
 * - `proxy-roundtrip-<n>` vs `tls-echo-<n>`: echo round trips between two machines over their proxies
 *   (n in flight) against a bare TLS echo in the same process. Goal ≥ 0.5.
 * - `proxy-vs-moleculer-<n>` vs `moleculer-tcp-<n>`: the same fos echo against Moleculer's TCP
 *   transporter between two brokers in the same process. Goal ≥ 2.
 * - `proxy-lookup` vs `proxy-lookup-remote`: Lookups from a client on beta answered by beta's member
 *   against the same Lookups answered by alpha's member.
 */
export function proxy(overrides: Partial<ProxySettings> = {}): BenchmarkSuite & { readonly settings: ProxySettings } {
  const settings: ProxySettings = { ...proxyDefaults, ...overrides };
  return { name: 'proxy', settings, run: (options) => runProxy(settings, options) };
}

async function runProxy(settings: ProxySettings, options: Omit<RunOptions, 'resultsDirectory'>) {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const results: BenchmarkResult[] = [];
  const measure = async (benchmark: Benchmark): Promise<void> => {
    const result = await measureBenchmark(benchmark, options);
    results.push(result);
    print(formatResultLine(result));
  };
  for (const inFlight of settings.inFlight) await measure(roundTripPair(settings, inFlight, 'tls'));
  for (const inFlight of settings.inFlight) await measure(roundTripPair(settings, inFlight, 'moleculer'));
  await measure(lookupPair(settings));
  return { settings, results };
}
