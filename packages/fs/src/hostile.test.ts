// Any value through every request of a member and the block device, and every call of the fs
// component: a documented FosError (or an answer), never a crash, and nothing left behind.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeValue, isFosError, type FosErrorCode } from '@fos/base';
import { documentedErrorCodes, hostileValues } from '@fos/base/testing';
import { tierCount } from '@fos/sim';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errnoOf } from './errors.js';
import { fsTestMachine, type FsTestMachine } from './testing/machine.js';

const documented = documentedErrorCodes(readFileSync(new URL('../README.md', import.meta.url), 'utf8'));
const anyValue = fc.oneof(fc.anything(), fc.constantFrom(...hostileValues()));

let work: string;
let fos: FsTestMachine;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'fos-fs-hostile-'));
  mkdirSync(join(work, 'tree/dir'), { recursive: true });
  writeFileSync(join(work, 'tree/dir/file.txt'), 'hello\n');
  execFileSync('tar', ['-cf', join(work, 'image.tar'), '-C', join(work, 'tree'), '.']);
  fos = await fsTestMachine('local', { image: join(work, 'image.tar'), members: 1 });
});

afterAll(async () => {
  await fos.shutdown();
  rmSync(work, { recursive: true, force: true });
});

/** Well-formed requests of every kind, each of which a hostile plan bends one field of. */
const wellFormed: Record<string, unknown>[] = [
  { op: 'open', path: 'dir/file.txt' },
  { op: 'read', handle: 1, offset: 0, length: 4 },
  { op: 'fstat', handle: 1 },
  { op: 'close', handle: 1 },
  { op: 'stat', path: 'dir', lstat: true },
  { op: 'readdir', path: '/', after: 'a' },
  { op: 'info' },
  { op: 'leave', capability: 'AAAAAAAAAAAAAAAAAAAAAA' },
];
const deviceRequests: Record<string, unknown>[] = [{ op: 'read', block: 0, count: 1 }, { op: 'info' }];

function bent(requests: Record<string, unknown>[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    anyValue,
    fc
      .tuple(fc.constantFrom(...requests), anyValue, fc.string({ maxLength: 8 }))
      .chain(([request, value, extra]) =>
        fc
          .constantFrom(...Object.keys(request), extra === '' ? 'extra' : extra)
          .map((key) => ({ ...request, [key]: value })),
      ),
  );
}

describe('any value through the wire', () => {
  it('is answered or refused with a documented code; the member keeps serving, holding no file more', async () => {
    const { libfos } = await fos.client(3);
    const met = new Set<string>();
    const infoOf = async () => (await libfos.call('/sys/fs/0', { op: 'info' })).body as { openFiles: number };
    await fc.assert(
      fc.asyncProperty(fc.boolean(), bent(wellFormed), bent(deviceRequests), async (toMember, request, device) => {
        const target = toMember ? '/sys/fs/0' : '/sys/blockdev/0';
        const body = toMember ? request : device;
        try {
          const answer = (await libfos.call(target, body as never)).body as { handle?: number } | null;
          // An open that went through is closed again, so that the count below holds.
          if (toMember && typeof answer === 'object' && answer !== null && typeof answer.handle === 'number')
            await libfos.call(target, { op: 'close', handle: answer.handle });
        } catch (error) {
          if (!isFosError(error)) throw new Error(`${target} ${describeValue(body)} threw ${String(error)}`);
          met.add(error.code);
        }
      }),
      { numRuns: tierCount({ fast: 2_000, long: 20_000 }), seed: 11 },
    );
    expect([...met].filter((code) => !documented.has(code as FosErrorCode))).toEqual([]);
    expect(met.has('BAD_REQUEST')).toBe(true);
    expect((await infoOf()).openFiles).toBe(0);
    expect(fos.fleet.members).toEqual(['/sys/fs/0']);
    await libfos.close();
  }, 120_000);
});

describe('any value through the fs component', () => {
  it('refuses with a documented code and a node:fs errno, and holds no file more', async () => {
    const { fs, libfos } = await fos.client(2);
    const handle = await fs.open('dir/file.txt');
    const met = new Set<string>();
    const calls: ((value: unknown) => Promise<unknown>)[] = [
      (value) => fs.open(value as string),
      (value) => fs.stat(value as string),
      (value) => fs.lstat(value as string),
      (value) => fs.readdir(value as string),
      (value) => fs.readFile(value as string),
      (value) => handle.read(new Uint8Array(8), value as number),
      (value) => handle.read(new Uint8Array(8), 0, value as number),
      (value) => handle.read(new Uint8Array(8), 0, 8, value as number),
    ];
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: calls.length - 1 }), anyValue, async (index, value) => {
        try {
          const answer = await calls[index]!(value);
          if (typeof answer === 'object' && answer !== null && 'close' in answer)
            await (answer as { close(): Promise<void> }).close();
        } catch (error) {
          if (!isFosError(error)) throw new Error(`call ${index} with ${describeValue(value)} threw ${String(error)}`);
          met.add(error.code);
          expect(errnoOf(error), String(error)).toBeDefined();
        }
      }),
      { numRuns: tierCount({ fast: 1_000, long: 10_000 }), seed: 12 },
    );
    expect([...met].filter((code) => !documented.has(code as FosErrorCode))).toEqual([]);
    expect(fs.openFiles).toBe(1);
    expect(new TextDecoder().decode(await handle.readFile())).toBe('hello\n');
    await handle.close();
    await libfos.close();
  }, 120_000);
});
