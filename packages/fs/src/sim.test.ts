import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '@fos/base';
import type { SimFabric } from '@fos/microkernel';
import { runSeeds, SeededRandom, tierCount } from '@fos/sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesOf, generateTree, tarDirectory } from './testing/images.js';
import { fsTestMachine } from './testing/machine.js';

// The oracle under simulation: the image is served from memory (a host read would let real time in),
// every file read through fos equals what node:fs reads from the extracted tree, for every seed.
let work: string;
let imageBytes: Uint8Array;
let extracted: string;
let files: string[];
const expected = new Map<string, Buffer>();

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'fos-fs-sim-'));
  const tree = join(work, 'tree');
  // Deep directories, long and non-ASCII names, empty files, files of 0..3 blocks, one of 5 MiB, links.
  generateTree(tree, { seed: 5 });
  const image = join(work, 'tree.tar');
  imageBytes = tarDirectory(tree, image, 'pax');
  extracted = join(work, 'extracted');
  mkdirSync(extracted);
  execFileSync('tar', ['-xf', image, '-C', extracted]);
  files = filesOf(extracted);
  for (const path of files) expected.set(path, readFileSync(join(extracted, path)));
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** One seeded run: 2 members, 2 clients reading every file concurrently; what it saw, for replay checks. */
async function run(seed: number): Promise<string> {
  const fos = await fsTestMachine('sim', { image: imageBytes, members: 2 }, { seed, cores: 4 });
  try {
    const clients = await Promise.all([fos.client(2), fos.client(3)]);
    const seen: string[] = [];
    await Promise.all(
      clients.map(async ({ fs }, index) => {
        for (const path of files) {
          const bytes = await fs.readFile(path);
          expect(Buffer.from(bytes).equals(expected.get(path)!), `seed=${seed} ${path}`).toBe(true);
        }
        expect(await fs.readdir('/')).toEqual(readdirSync(extracted).sort());
        seen.push(`${index}:${JSON.stringify(fs.stats().byMember)}`);
      }),
    );
    await Promise.all(clients.map(({ libfos }) => libfos.close()));
    return seen.sort().join(' ');
  } finally {
    await fos.shutdown();
  }
}

describe('the file-system fleet under simulation', () => {
  it('reads every file as node:fs does, for every seed', async () => {
    await runSeeds(async (seed) => void (await run(seed)), {
      seeds: tierCount({ fast: 50, long: 500 }),
      seedStart: 1,
    });
  }, 600_000);

  it('replays a seed exactly: the same members answer the same opens', async () => {
    expect(await run(7)).toBe(await run(7));
  });
});

/**
 * One seeded run of a fleet that changes under reads: 3 members, 2 clients holding 6 files open each and
 * reading them over and over while the fleet grows, shrinks and loses a member to a crash.
 */
async function churn(seed: number): Promise<number> {
  const fos = await fsTestMachine('sim', { image: imageBytes, members: 3 }, { seed, cores: 5 });
  try {
    const clients = await Promise.all([fos.client(3), fos.client(4)]);
    const small = files.filter((path) => expected.get(path)!.length < 100_000).slice(0, 6);
    const random = new SeededRandom(seed);
    let changed = false;
    const clock = (fos.machine.fabric as SimFabric).clock;
    const readers = clients.map(async ({ fs }) => {
      const handles = await Promise.all(small.map((path) => fs.open(path)));
      // Round after round until the fleet's changes are over (and at least twice).
      for (let round = 0; round < 2 || !changed; round++) {
        // A round takes virtual time: the simulated clock moves only when nothing else can run.
        await sleep(clock, 5);
        for (const [index, handle] of handles.entries()) {
          const want = expected.get(small[index]!)!;
          expect((await handle.stat()).size, `seed=${seed} ${small[index]}`).toBe(want.length);
          expect(Buffer.from(await handle.readFile()).equals(want), `seed=${seed} ${small[index]}`).toBe(true);
        }
      }
      await Promise.all(handles.map((handle) => handle.close()));
      return fs.stats().reopens;
    });
    const changes = (async () => {
      try {
        await fos.fleet.growFleet(fos.root);
        await fos.fleet.shrinkFleet(fos.root);
        const running = fos.fleet.members;
        fos.fleet.memberProcess(running[random.nextInt(running.length)]!).kill();
        // Reads go on a while after the crash, so that they meet it.
        await sleep(clock, 50);
      } finally {
        // The readers stop once the changes are over, whether they worked or not.
        changed = true;
      }
    })();
    const [reopens] = await Promise.all([Promise.all(readers), changes]);
    await Promise.all(clients.map(({ libfos }) => libfos.close()));
    expect(fos.fleet.members).toHaveLength(2);
    return reopens.reduce((sum, count) => sum + count, 0);
  } finally {
    await fos.shutdown();
  }
}

describe('a fleet that grows, shrinks and loses a member under reads (simulated)', () => {
  it('never fails a read of an open file, for every seed', async () => {
    let reopens = 0;
    await runSeeds(async (seed) => void (reopens += await churn(seed)), {
      seeds: tierCount({ fast: 20, long: 200 }),
      seedStart: 1,
    });
    // The changes met open files (a sweep where none did would check nothing).
    expect(reopens).toBeGreaterThan(0);
  }, 600_000);
});

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimer(ms, resolve));
}
