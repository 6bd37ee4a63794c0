import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasFosErrorCode } from '@fos/base';
import { runNodeScript } from '@fos/base/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boot, type BootOptions } from './boot.js';
import { runFsCommand } from './fs-command.js';

// The file system as `boot({ fs })` starts it, read through a client process's fs component on every
// fabric; the oracle is what node:fs reads from the tree tar extracted.
const processesModule = new URL('../dist/processes.js', import.meta.url);
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

let work: string;
let image: string;
let extracted: string;
let files: string[];

function walk(root: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, prefix)).sort()) {
    const path = prefix === '' ? name : `${prefix}/${name}`;
    const stat = lstatSync(join(root, path));
    if (stat.isDirectory()) out.push(...walk(root, path));
    else if (stat.isFile()) out.push(path);
  }
  return out;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'fos-system-fs-'));
  const tree = join(work, 'tree');
  mkdirSync(join(tree, 'packages/fs'), { recursive: true });
  writeFileSync(join(tree, 'README.md'), '# fos.ts\n\nA factored operating system.\n');
  writeFileSync(join(tree, 'packages/fs/README.md'), '# @fos/fs\n');
  writeFileSync(join(tree, 'packages/empty.txt'), '');
  const big = new Uint8Array(100_000);
  for (let index = 0; index < big.length; index++) big[index] = (index * 31) & 0xff;
  writeFileSync(join(tree, 'packages/big.bin'), big);
  symlinkSync('packages/fs/README.md', join(tree, 'link.md'));
  image = join(work, 'tree.tar');
  execFileSync('tar', ['-cf', image, '-C', tree, '.']);
  extracted = join(work, 'extracted');
  mkdirSync(extracted);
  execFileSync('tar', ['-xf', image, '-C', extracted]);
  files = walk(extracted);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

const fabrics: { name: string; options: (image: string) => BootOptions }[] = [
  { name: 'local', options: (path) => ({ fabric: 'local', cores: 4, fs: { image: path, members: 2 } }) },
  { name: 'worker', options: (path) => ({ fabric: 'worker', cores: 4, fs: { image: path, members: 2 } }) },
  {
    name: 'sim (image bytes)',
    options: (path) => ({ fabric: 'sim', seed: 5, cores: 4, fs: { image: readFileSync(path), members: 2 } }),
  },
];

describe('boot({ fs })', () => {
  for (const fabric of fabrics) {
    it(`serves every file as node:fs reads it, on fabric ${fabric.name}`, async () => {
      const instance = await boot(fabric.options(image));
      try {
        expect(instance.fs?.members).toEqual(['/sys/fs/0', '/sys/fs/1']);
        const client = await instance.spawn({
          core: 3,
          module: processesModule,
          entry: 'fsDigests',
          args: { paths: [...files, 'link.md'] },
        });
        const { digests } = client.result as { digests: Record<string, string> };
        for (const path of files)
          expect(digests[path], path).toBe(
            createHash('sha256')
              .update(readFileSync(join(extracted, path)))
              .digest('hex'),
          );
        expect(digests['link.md']).toBe(digests['packages/fs/README.md']);
      } finally {
        await instance.shutdown();
      }
    });
  }

  it('refuses what it cannot serve, and leaves nothing running', async () => {
    const refusal = (options: unknown): Promise<unknown> =>
      boot(options as BootOptions).then(
        async (instance) => {
          await instance.shutdown();
          return undefined;
        },
        (error: unknown) => error,
      );
    expect(hasFosErrorCode(await refusal({ fabric: 'local', nameServers: 0, fs: { image } }), 'BAD_REQUEST')).toBe(
      true,
    );
    expect(
      hasFosErrorCode(await refusal({ fabric: 'worker', cores: 2, fs: { image: new Uint8Array(512) } }), 'BAD_REQUEST'),
    ).toBe(true);
    expect(hasFosErrorCode(await refusal({ fabric: 'local', fs: { image, members: 0 } }), 'BAD_REQUEST')).toBe(true);
    expect(hasFosErrorCode(await refusal({ fabric: 'local', fs: { image, extra: 1 } }), 'BAD_REQUEST')).toBe(true);
    const missing = await refusal({ fabric: 'local', fs: { image: join(work, 'nope.tar') } });
    expect(hasFosErrorCode(missing, 'NO_SUCH_NAME'), String(missing)).toBe(true);
    expect(String(missing)).toContain('nope.tar');
  });
});

describe('fos fs', { timeout: 120_000 }, () => {
  it('lists, prints and stats through the fleet (runFsCommand)', async () => {
    expect(await runFsCommand({ verb: 'ls', image, path: '/', members: 2, processesModule })).toBe(
      `${readdirSync(extracted).sort().join('\n')}\n`,
    );
    expect(await runFsCommand({ verb: 'stat', image, path: 'packages/big.bin', members: 1, processesModule })).toMatch(
      /^packages\/big\.bin: file, 100000 bytes, mode 0\d{3}/,
    );
  });

  it('prints a file to stdout as the built command, and fails with the node:fs code', async () => {
    const cat = await runNodeScript(cli, ['fs', 'cat', image, 'README.md']);
    expect(cat.stderr).toBe('');
    expect(cat.status).toBe(0);
    expect(cat.stdout).toBe(readFileSync(join(extracted, 'README.md'), 'utf8'));
    const missing = await runNodeScript(cli, ['fs', 'cat', image, 'nope.md']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/ENOENT.*nope\.md/);
    const usage = await runNodeScript(cli, ['fs', 'cat', image]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('missing PATH');
  });
});
