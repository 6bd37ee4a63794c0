import { hasFosErrorCode } from '@fos/base';
import { describe, expect, it } from 'vitest';
import { demoFleetMembers, demoFleetMembersMax, demoLookupTtlMs, formatDemoSummary, runDemo } from './demo.js';
import { runMachinesDemo } from './demo-machines.js';

// The demo spawns its processes from a module; from source, that is the build (turbo builds first).
const processesModule = new URL('../dist/processes.js', import.meta.url);

// A wall clock whose timers fire after 1 ms: progress lines come many times a run.
const fastWallClock = {
  now: () => performance.now(),
  setTimer: (_delayMs: number, callback: () => void) => {
    const timer = setTimeout(callback, 1);
    return { cancel: () => clearTimeout(timer) };
  },
};

/** The counts of progress lines, checked: each line's form, never more than `messages`, never going back. */
function progressCounts(lines: readonly string[], messages: number): number[] {
  for (const line of lines)
    expect(line).toMatch(new RegExp(`^fos demo: about \\d+ of ${messages} round trips after \\d+ s$`));
  const counts = lines.map((line) => Number(/about (\d+)/.exec(line)![1]));
  expect(counts).toEqual([...counts].sort((left, right) => left - right));
  expect(Math.max(...counts)).toBeLessThanOrEqual(messages);
  return counts;
}

describe('runDemo', () => {
  it('says how far a run got while it runs, and stops saying so when it ends', async () => {
    const wallClock = fastWallClock;
    const lines: string[] = [];
    await runDemo({
      fabric: 'local',
      messages: 2_000,
      processesModule,
      wallClock,
      progress: (line) => lines.push(line),
    });
    expect(lines.length).toBeGreaterThan(0);
    progressCounts(lines, 2_000);
    const after = lines.length;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(lines.length).toBe(after);
  });

  it('runs on the local fabric and counts every message', async () => {
    const startedMs = performance.now();
    const result = await runDemo({ fabric: 'local', messages: 100, processesModule });
    const wallMs = performance.now() - startedMs;
    expect(result).toMatchObject({
      fabric: 'local',
      cores: 4,
      seed: undefined,
      refused: 0,
      roundTrips: 100,
      verified: 100,
      payloadBytes: 64,
    });
    // Both members answered (Lookups pick by weight; the cache keeps one pick per TTL, so only the
    // first call is guaranteed to be counted; the total is what matters).
    expect(Object.values(result.byMember).reduce((sum, count) => sum + count, 0)).toBe(100);
    expect(Object.keys(result.byMember).every((member) => /^\/sys\/echo\/[12]$/.test(member))).toBe(true);
    // Requests and replies of the workload at least, plus the name service's traffic.
    expect(result.delivered).toBeGreaterThanOrEqual(200);
    expect(result.lookups).toBeLessThanOrEqual(4);
    // The workload's time is part of the run's, and the rate is the one that time gives.
    expect(result.elapsedMs).toBeLessThanOrEqual(wallMs);
    expect(result.roundTripsPerSecond).toBeCloseTo(result.roundTrips / (result.elapsedMs / 1000), 0);
    expect(result.nameSpace.names.map((entry) => [entry.name, entry.type])).toEqual(
      expect.arrayContaining([
        ['/*', 'reservation'],
        ['/sys/*', 'reservation'],
        ['/sys/echo', 'indirect'],
        ['/sys/echo/1', 'direct'],
        ['/sys/echo/2', 'direct'],
        ['/tmp/*', 'reservation'],
      ]),
    );
    const summary = formatDemoSummary(result);
    for (const label of [
      'fabric',
      'cores',
      'processes',
      'mailboxes',
      'messages delivered',
      'round trips',
      'answered by',
      'lookups',
      'elapsed',
      'round trips/s',
      'name space',
    ])
      expect(summary).toContain(label);
    // It tells what it shows: the fleet, the client's core, the Lookup and how long its answer is kept.
    expect(summary).toContain(`The client on core 3 sends to that`);
    expect(summary).toContain(`the answer for ${demoLookupTtlMs} ms`);
    expect(summary).toMatch(/\/sys\/echo\s+indirect\s+→ \/sys\/echo\/1 \(weight 1\), \/sys\/echo\/2 \(weight 1\)/);
    expect(summary).toMatch(/\/sys\/echo\/1\s+direct\s+→ mailbox m0\/1\/\d+/);
  });

  it('starts an echo member on every core between the name server and the client (2 to 8 of them)', async () => {
    expect([3, 4, 5, 8, 10, 64].map(demoFleetMembers)).toEqual([2, 2, 3, 6, 8, demoFleetMembersMax]);
    const result = await runDemo({ fabric: 'sim', seed: 11, cores: 8, messages: 300, processesModule });
    expect(result.fleetMembers).toBe(6);
    // The name server, six members and the client.
    expect(result.processes).toBe(8);
    for (let member = 1; member <= 6; member++) {
      const entry = result.nameSpace.names.find((name) => name.name === `/sys/echo/${member}`);
      expect(entry?.location?.core).toBe(member);
    }
    const fleet = result.nameSpace.names.find((name) => name.name === '/sys/echo');
    expect(fleet?.destinations).toHaveLength(6);
    expect(formatDemoSummary(result)).toContain('an echo fleet of 6 under /sys/echo');
  });

  it('runs on the sim fabric with a seed', async () => {
    const result = await runDemo({ fabric: 'sim', seed: 7, cores: 3, messages: 50, processesModule });
    expect(result).toMatchObject({ fabric: 'sim', cores: 3, seed: 7, roundTrips: 50, verified: 50 });
    expect(formatDemoSummary(result)).toContain('sim (seed=7)');
    expect(formatDemoSummary(result)).toContain('answered by name-service member ns00');
    // One seed replays one run: the same answers, the same name space.
    const again = await runDemo({ fabric: 'sim', seed: 7, cores: 3, messages: 50, processesModule });
    expect({ ...again, elapsedMs: 0, roundTripsPerSecond: 0 }).toEqual({
      ...result,
      elapsedMs: 0,
      roundTripsPerSecond: 0,
    });
  });

  it('runs with a fleet of three name servers, and says which member answered the listing', async () => {
    const result = await runDemo({ fabric: 'sim', seed: 3, cores: 4, messages: 20, nameServers: 3, processesModule });
    expect(result).toMatchObject({ roundTrips: 20, verified: 20 });
    expect(result.nameSpace.member).toMatch(/^ns0[0-2]$/);
    expect(formatDemoSummary(result)).toMatch(/answered by name-service member ns0[0-2]/);
  });

  it('runs on worker threads, one per core, with a fleet of two name servers', async () => {
    const result = await runDemo({ fabric: 'worker', cores: 4, messages: 200, nameServers: 2, processesModule });
    expect(result).toMatchObject({
      fabric: 'worker',
      cores: 4,
      seed: undefined,
      refused: 0,
      roundTrips: 200,
      verified: 200,
    });
    expect(Object.values(result.byMember).reduce((sum, count) => sum + count, 0)).toBe(200);
    expect(result.delivered).toBeGreaterThanOrEqual(400);
    expect(result.nameSpace.member).toMatch(/^ns0[01]$/);
    expect(result.nameSpace.names.map((entry) => entry.name)).toEqual(
      expect.arrayContaining(['/sys/echo', '/sys/echo/1', '/sys/echo/2']),
    );
  });

  it('refuses options it cannot run with BAD_REQUEST', async () => {
    await expect(runDemo({ cores: 2, processesModule })).rejects.toSatisfy(
      (error) => hasFosErrorCode(error, 'BAD_REQUEST') && /cores = 2/.test(String(error)),
    );
    await expect(runDemo({ messages: 0, processesModule })).rejects.toSatisfy(
      (error) => hasFosErrorCode(error, 'BAD_REQUEST') && /messages = 0/.test(String(error)),
    );
    await expect(runDemo({ fabric: 'sim', processesModule })).rejects.toSatisfy(
      (error) => hasFosErrorCode(error, 'BAD_REQUEST') && /seed/.test(String(error)),
    );
  });
});

describe('runMachinesDemo', () => {
  it('spans two OS processes: the client here calls the echo of the other machine by name', async () => {
    const lines: string[] = [];
    const result = await runMachinesDemo({
      machines: 2,
      messages: 1_000,
      cliModule: new URL('../dist/cli.js', import.meta.url),
      processesModule,
      wallClock: fastWallClock,
      progress: (line) => lines.push(line),
    });
    // Progress lines count the replies this process's kernels delivered: one per round trip.
    expect(Math.max(...progressCounts(lines, 1_000))).toBeGreaterThan(0);
    expect(result.machines?.map((info) => info.machine)).toEqual(['m0', 'm1']);
    expect(result.machines?.[1]?.pid).not.toBe(process.pid);
    expect(result.target).toBe('/sys/echo/m1');
    expect(result.byMember).toEqual({ '/sys/echo/m1': 1_000 });
    expect(result.verified).toBe(1_000);
    const names = result.nameSpace.names.map((entry) => entry.name);
    expect(names).toEqual(expect.arrayContaining(['/sys/proxy/m0', '/sys/proxy/m1', '/sys/echo/m1']));
    const m1 = result.nameSpace.names.find((entry) => entry.name === '/sys/echo/m1');
    expect(m1?.location?.machine).toBe('m1');
    expect(formatDemoSummary(result)).toMatch(/2 machines, each its own OS process/);
    await expect(runMachinesDemo({ machines: 9 })).rejects.toThrow(/BAD_REQUEST/);
  }, 120_000);
});
