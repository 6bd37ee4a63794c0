// The benchmarks of the name service and of sending by name, each set up for real and run for one tiny
// round of its measured workload and its baseline. Nothing here is timed: a sample only has to be a
// positive rate.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allBenchmarks, allSuites } from './benchmarks/index.js';
import { findEtcd } from './benchmarks/etcd-server.js';
import { memory, type MemoryRow } from './benchmarks/memory.js';
import { fs, type FsGridPoint } from './benchmarks/fs.js';
import { http } from './benchmarks/http.js';
import { proxy } from './benchmarks/proxy.js';
import { peers, type PeersReport, type PeersSettings } from './benchmarks/peers.js';
import { lookupRpc } from './benchmarks/lookup-rpc.js';
import { messaging, messagingBytes, messagingVsRing } from './benchmarks/messaging.js';
import { measureGrid, nsLookup, nsRegister, nsRegisterContended } from './benchmarks/ns-fleet.js';
import { nsLookupNoAlias, nsLookupWorkers } from './benchmarks/ns-workers.js';
import { sendByName } from './benchmarks/send-by-name.js';
import { register } from './benchmarks/register.js';
import { sendCached } from './benchmarks/send-cached.js';
import { dispatcherCall } from './benchmarks/dispatcher-call.js';
import { rpcStub } from './benchmarks/rpc-stub.js';
import { ukSendRoundtrip } from './benchmarks/uksend-roundtrip.js';
import { formatResultLine, type Benchmark, type BenchmarkResult } from './harness.js';

async function oneRoundEach(benchmark: Benchmark): Promise<{ measured: number; baseline: number }> {
  const session = await benchmark.run();
  try {
    return { measured: await session.measured(), baseline: await session.baseline() };
  } finally {
    await session.close();
  }
}

/** One round of each kind gives a positive, finite rate. */
async function expectPositiveRates(benchmark: Benchmark): Promise<void> {
  const { measured, baseline } = await oneRoundEach(benchmark);
  for (const rate of [measured, baseline]) {
    expect(rate).toBeGreaterThan(0);
    expect(Number.isFinite(rate)).toBe(true);
  }
}

describe('the name-service and send-by-name benchmarks', () => {
  it('are each registered once, under their own name, beside a baseline with a rate unit', () => {
    const benchmarks = allBenchmarks();
    const names = benchmarks.map((benchmark) => benchmark.name);
    expect(new Set(names).size).toBe(names.length);
    // Every benchmark module's benchmark is one that `pnpm bench` runs (a new one that is not fails here).
    for (const made of [
      dispatcherCall(),
      lookupRpc(),
      messaging(),
      messagingVsRing(),
      messagingBytes(),
      nsLookup(),
      nsRegister(),
      nsRegisterContended(),
      nsLookupWorkers(),
      nsLookupNoAlias(),
      register(),
      rpcStub(),
      sendByName(),
      sendCached(),
      ukSendRoundtrip(),
    ]) {
      expect(names).toContain(made.name);
    }
    for (const benchmark of benchmarks) {
      expect(benchmark.baselineName).not.toBe(benchmark.name);
      expect(benchmark.unit).toMatch(/^[a-z]+\/s$/);
    }
  });

  it.each([
    ['lookup-rpc', lookupRpc({ lookups: 5, rounds: 1, warmupRounds: 0 })],
    ['send-cached', sendCached({ roundTrips: 5, warmCalls: 2, rounds: 1, warmupRounds: 0 })],
    ['register', register({ pairs: 3, lookups: 5, rounds: 1, warmupRounds: 0 })],
  ])('%s runs a round of its workload and of its baseline', async (_, benchmark) => {
    await expectPositiveRates(benchmark);
  });

  it('report their settings: one in flight, the client on core 1, 64-byte echo payloads', () => {
    for (const benchmark of [lookupRpc(), sendCached(), register()]) {
      expect(benchmark.settings).toMatchObject({ fabric: 'local', inFlight: 1, clientCore: 1 });
    }
    expect(sendCached().settings).toMatchObject({ bodyBytes: 64, echoCore: 2 });
  });
});

describe('the name-service fleet benchmarks (Figures 6-1, 6-2, 6-3)', () => {
  // A tiny grid (1 or 2 clients × 1 or 2 members), no grid file written.
  const tiny = {
    clients: [1, 2],
    fleetSizes: [1, 2],
    operationsPerRound: 6,
    rounds: 1,
    warmupRounds: 0,
    gridRounds: 1,
  };

  it.each([
    ['ns-lookup', nsLookup(tiny, { gridDirectory: null })],
    ['ns-register', nsRegister(tiny, { gridDirectory: null })],
    ['ns-register-contended', nsRegisterContended(tiny, { gridDirectory: null })],
  ])(
    '%s measures its grid, then a round of its measured point and of its baseline',
    async (_, benchmark) => {
      await expectPositiveRates(benchmark);
    },
    30_000,
  );

  it('report the grid of chapter 6 and its baseline point', () => {
    expect(nsLookup().settings).toMatchObject({
      fabric: 'local',
      clients: '1,2,4,8,16',
      fleetSizes: '1,2,4,8',
      baselinePoint: '1 client, 1 member',
      gridRounds: 3,
    });
    expect(nsRegisterContended().settings).toMatchObject({ measuredPoint: '16 clients, 1 member' });
  });

  it('measures every grid point in several rounds and keeps their median', async () => {
    const grid = await measureGrid('register', { ...tiny, minCores: 2, gridRounds: 3 });
    expect(grid.map((point) => [point.clients, point.fleet])).toEqual([
      [1, 1],
      [2, 1],
      [1, 2],
      [2, 2],
    ]);
    for (const point of grid) {
      expect(point.rounds).toHaveLength(3);
      expect(point.value).toBe([...point.rounds].sort((left, right) => left - right)[1]);
      // Every client makes ceil(6 / clients) pairs per round.
      expect(point.attempts).toBe(3 * point.clients * Math.ceil(6 / point.clients));
    }
  }, 30_000);
});

describe('the messaging benchmarks (Figure 6-4), on worker threads', () => {
  // Tiny rounds and a one-point grid, no grid file written; the process module is the build's.
  const tiny = {
    roundTrips: 50,
    warmupRoundTrips: 5,
    rounds: 1,
    warmupRounds: 0,
    gridClients: [1],
    gridServers: [1],
    gridRoundTrips: 20,
    gridRounds: 1,
  };

  it.each([
    ['messaging', messaging(tiny, { gridDirectory: null })],
    ['messaging-vs-ring', messagingVsRing(tiny, { gridDirectory: null })],
    ['messaging-bytes', messagingBytes(tiny, { gridDirectory: null })],
  ])(
    '%s runs a round of the channel path and of its baseline',
    async (_, benchmark) => {
      await expectPositiveRates(benchmark);
    },
    30_000,
  );

  it('reports the message size and threads its baselines share', () => {
    expect(messaging().settings).toMatchObject({
      fabric: 'worker',
      path: 'channel',
      clients: 1,
      servers: 1,
      threads: 2,
      inFlight: 1,
      payloadBytes: 32,
    });
    expect(messagingVsRing().settings.messageBytes).toBe(messaging().settings.messageBytes);
    expect(messagingBytes().settings).toMatchObject({
      messageBytes: messaging().settings.messageBytes,
      body: 'bytes (a Uint8Array of messageBytes)',
    });
  });
});

describe('ns-lookup on worker cores', () => {
  it('runs its grid and a round of its measured fleet and of one member', async () => {
    await expectPositiveRates(
      nsLookupWorkers(
        { fleetSizes: [1, 2], lookups: 20, warmupLookups: 5, rounds: 1, warmupRounds: 0, gridRounds: 1 },
        { gridDirectory: null, cpus: 4 },
      ),
    );
  }, 60_000);

  it('measures the largest fleet that fits twice in the cores, and says when scaling cannot be measured', () => {
    expect(nsLookupWorkers({}, { cpus: 16 }).settings).toMatchObject({ measuredFleet: 8, goal: '>= 5.6 x one member' });
    expect(nsLookupWorkers({}, { cpus: 6 }).settings).toMatchObject({ measuredFleet: 2 });
    expect(nsLookupWorkers({}, { cpus: 2 }).settings).toMatchObject({
      measuredFleet: 1,
      scaling: 'not measured: this machine has fewer than 4 cores',
    });
  });
});

describe('ns-lookup without the canonical alias', () => {
  it('runs a round of an alias-less client (checked to send nothing through a channel) and of one with its alias', async () => {
    await expectPositiveRates(nsLookupNoAlias({ lookups: 20, warmupLookups: 5, rounds: 1, warmupRounds: 0 }));
  }, 60_000);
});

describe('send-by-name on worker cores', () => {
  it('runs a round of calls by name and of calls to the resolved location', async () => {
    await expectPositiveRates(sendByName({ calls: 30, warmupCalls: 10, rounds: 1, warmupRounds: 0 }));
  }, 60_000);
});

describe('peers: fos beside Moleculer and etcd', () => {
  const tiny = { rpcCalls: 20, lookups: 10, pairs: 4, rounds: 1, warmupRounds: 0 };
  /** `RESULT <name> <value> <unit> ratio=<r> vs <baseline>`, parsed. */
  const resultLine = /^RESULT ([A-Za-z0-9-]+) ([0-9.]+) ([a-z]+\/s) ratio=([0-9.]+) vs ([A-Za-z0-9-]+)$/;

  async function runTiny(overrides: Partial<PeersSettings>): Promise<{ lines: string[]; report: PeersReport }> {
    const lines: string[] = [];
    const report = (await peers({ ...tiny, ...overrides }).run({ print: (line) => lines.push(line) })) as unknown;
    return { lines, report: report as PeersReport };
  }

  it('is a suite of pnpm bench', () => {
    expect(allSuites().map((suite) => suite.name)).toContain('peers');
    expect(allBenchmarks().map((benchmark) => benchmark.name)).not.toContain('peers');
  });

  it('prints a RESULT line per pair that parses, fos measured against Moleculer', async () => {
    const { lines, report } = await runTiny({ etcd: false });
    const results = lines.filter((line) => line.startsWith('RESULT '));
    expect(results).toHaveLength(1);
    const [, name, value, unit, ratio, baseline] = resultLine.exec(results[0] as string) ?? [];
    expect([name, unit, baseline]).toEqual(['peers-rpc', 'calls/s', 'moleculer-call']);
    expect(Number(value)).toBeGreaterThan(0);
    expect(Number(ratio)).toBeGreaterThan(0);
    expect(results[0]).toBe(formatResultLine(report.results[0] as BenchmarkResult));
    expect(report.skipped.map(({ pairs }) => pairs)).toEqual(['peers-lookup-*, peers-register-*']);
    expect(report.skipped[0]?.reason).toMatch(/turned off/);
  }, 60_000);

  // Runs where etcd is installed (CI installs it); elsewhere the pairs are skipped with the reason.
  const etcd = findEtcd();
  it.runIf(etcd.binary !== undefined)(
    'starts etcd, runs the Lookup and Register pairs at 1 and 2 in flight, and stops etcd',
    async () => {
      const { lines, report } = await runTiny({ etcd: true, inFlight: [1, 2] });
      const names = lines.flatMap((line) => resultLine.exec(line)?.slice(1, 2) ?? []);
      expect(names).toEqual(['peers-rpc', 'peers-lookup-1', 'peers-lookup-2', 'peers-register-1', 'peers-register-2']);
      expect(report.results.map((result) => result.baselineName).slice(1)).toEqual([
        'etcd-get-1',
        'etcd-get-2',
        'etcd-put-delete-1',
        'etcd-put-delete-2',
      ]);
      expect(report.skipped).toEqual([]);
      // stop() removed etcd's data directory.
      expect(report.etcd?.dataDirectory).toMatch(/fos-bench-etcd-/);
      expect(existsSync(report.etcd?.dataDirectory as string)).toBe(false);
    },
    120_000,
  );

  it('skips the etcd pairs with the reason when etcd is not found', () => {
    const missing = findEtcd({ PATH: '/nonexistent' });
    expect(missing.binary).toBeUndefined();
    expect(missing.reason).toMatch(/not installed/);
    const wrong = findEtcd({ PATH: '', ETCD_BIN: '/nonexistent/etcd' });
    expect(wrong.binary).toBeUndefined();
    expect(wrong.reason).toMatch(/not an executable/);
  });
});

describe('memory: heap per process, mailbox and name, in child processes', () => {
  it('is a suite of pnpm bench', () => {
    expect(allSuites().map((suite) => suite.name)).toContain('memory');
  });

  it('measures every pair in a child of its own and prints a RESULT line per pair that parses', async () => {
    const lines: string[] = [];
    // 10,000 names and 2,000 mailboxes (the suite's own count): a table of 1,000 names or 256 mailboxes
    // was small enough for the heap growth to drown in the noise of a busy machine (a value or ratio
    // of 0 or below, which no RESULT line parses).
    const suite = memory({ processes: 200, mailboxes: 2_000, names: [10_000], childHeapMiB: 512 });
    const report = (await suite.run({ print: (line) => lines.push(line) })) as { rows: MemoryRow[] };
    const resultLine = /^RESULT ([a-z0-9-]+) ([0-9.]+) (B\/[a-z]+) ratio=([0-9.]+) vs ([a-z0-9-]+)$/;
    const parsed = lines.flatMap((line) => {
      const match = resultLine.exec(line);
      return match === null ? [] : [match.slice(1)];
    });
    expect(
      parsed.map(([name, , unit, , baseline]) => [name, unit, baseline]),
      `the suite printed:\n${lines.join('\n')}`,
    ).toEqual([
      ['memory-process', 'B/process', 'object-with-port'],
      ['memory-mailbox', 'B/mailbox', 'plain-mailbox'],
      ['memory-names-10k', 'B/name', 'map-10k'],
      ['memory-fleet-names-10k', 'B/name', 'map-10k'],
    ]);
    for (const row of report.rows) {
      // Every thing built costs heap, in fos and in the baseline (a child that built nothing would show ~0).
      expect(row.heapBytes).toBeGreaterThan(0);
      expect(row.baselineHeapBytes).toBeGreaterThan(0);
      expect(row.measured.count).toBe(row.count);
    }
    // The fleet row is per member: the three members' growth divided by 3.
    const fleet = report.rows.find((row) => row.name === 'memory-fleet-names-10k') as MemoryRow;
    expect(fleet.heapBytes).toBeCloseTo(fleet.measured.perItem.heapBytes / 3);
  }, 120_000);
});

describe('proxy: two machines over TLS beside a bare TLS echo and Moleculer', () => {
  it('is a suite of pnpm bench and prints a RESULT line per pair that parses', async () => {
    expect(allSuites().map((suite) => suite.name)).toContain('proxy');
    const lines: string[] = [];
    const report = (await proxy({ roundTrips: 20, inFlight: [1, 4], lookups: 10, rounds: 1, warmupRounds: 0 }).run({
      print: (line) => lines.push(line),
    })) as { results: BenchmarkResult[] };
    const resultLine = /^RESULT ([A-Za-z0-9-]+) ([0-9.]+) ([a-z]+\/s) ratio=([0-9.]+) vs ([A-Za-z0-9-]+)$/;
    const parsed = lines.filter((line) => line.startsWith('RESULT ')).map((line) => resultLine.exec(line));
    expect(parsed.map((match) => [match?.[1], match?.[5]])).toEqual([
      ['proxy-roundtrip-1', 'tls-echo-1'],
      ['proxy-roundtrip-4', 'tls-echo-4'],
      ['proxy-vs-moleculer-1', 'moleculer-tcp-1'],
      ['proxy-vs-moleculer-4', 'moleculer-tcp-4'],
      ['proxy-lookup', 'proxy-lookup-remote'],
    ]);
    for (const match of parsed) expect(Number(match?.[2])).toBeGreaterThan(0);
    expect(report.results).toHaveLength(5);
  }, 120_000);
});

describe('fs', () => {
  it('is a suite of pnpm bench: the grid of Figure 6-5 and a RESULT line per pair that parses', async () => {
    expect(allSuites().map((suite) => suite.name)).toContain('fs');
    const lines: string[] = [];
    const report = (await fs(
      {
        clients: [1, 2],
        members: [1, 2],
        operations: 5,
        warmupOperations: 1,
        filesPerClient: 3,
        gridRounds: 1,
        rounds: 1,
        warmupRounds: 0,
        resultClients: 1,
        resultMembers: 2,
      },
      { gridDirectory: null },
    ).run({ print: (line) => lines.push(line) })) as { results: BenchmarkResult[]; points: FsGridPoint[] };
    expect(report.points.map((point) => [point.clients, point.members])).toEqual([
      [1, 1],
      [2, 1],
      [1, 2],
      [2, 2],
    ]);
    for (const point of report.points) {
      expect(point.value).toBeGreaterThan(0);
      expect(point.nodeFs).toBeGreaterThan(0);
      expect(point.threads).toBe(1 + point.members + point.clients);
    }
    const resultLine = /^RESULT ([A-Za-z0-9-]+) ([0-9.]+) ops\/s ratio=([0-9.]+) vs ([A-Za-z0-9-]+)$/;
    const parsed = lines.filter((line) => line.startsWith('RESULT ')).map((line) => resultLine.exec(line));
    expect(parsed.map((match) => [match?.[1], match?.[4]])).toEqual([
      ['fs-open-read-close', 'node-fs-open-read-close'],
      ['fs-clients-2x', 'fs-open-read-close'],
    ]);
    expect(report.results).toHaveLength(2);
  }, 120_000);
});

describe('http', () => {
  it('is a suite of pnpm bench: a RESULT line per pair that parses, and the name-change rate', async () => {
    expect(allSuites().map((suite) => suite.name)).toContain('http');
    const lines: string[] = [];
    const report = (await http({
      seconds: 1,
      connections: 8,
      connectionRequests: 40,
      connectionsInFlight: 4,
      rounds: 1,
      warmupRounds: 0,
    }).run({ print: (line) => lines.push(line) })) as { results: BenchmarkResult[]; nameChangesPerSecond: number };
    const parsed = lines
      .filter((line) => line.startsWith('RESULT'))
      .map((line) => /^RESULT ([A-Za-z0-9-]+) ([0-9.]+) ([a-z]+\/s) ratio=([0-9.]+) vs ([A-Za-z0-9-]+)$/.exec(line));
    expect(parsed.map((match) => match?.[1])).toEqual(['http-keepalive', 'http-connections']);
    for (const match of parsed) expect(Number(match?.[2])).toBeGreaterThan(0);
    expect(report.nameChangesPerSecond).toBeGreaterThan(0);
  }, 120_000);
});
