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
import { newClusterKeyText, parseClusterKey } from '@fos/proxy';
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
  // Deep directories, a path past 255 bytes, non-ASCII names, 0..3 blocks and 5 MiB.
  const deep = join(tree, ...Array.from({ length: 14 }, (_, index) => `level-${index}`));
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, `${'long-name-'.repeat(18)}.txt`), 'deep and long\n');
  writeFileSync(join(tree, 'héllo-wörld-日本語.txt'), 'non-ASCII\n');
  for (const size of [4095, 4096, 8193, 12_288])
    writeFileSync(join(tree, `packages/${size}.bin`), big.subarray(0, size));
  const large = new Uint8Array(5 * 1024 * 1024);
  for (let index = 0; index < large.length; index += 4096) large[index] = index >> 12;
  writeFileSync(join(tree, 'large.bin'), large);
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
  it("reads a tar of the repository's own README files", async () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const readmes = join(work, 'readmes.tar');
    execFileSync('tar', ['-cf', readmes, '-C', root, 'README.md', 'packages/fs/README.md', 'packages/base/README.md']);
    const listed = await runNodeScript(cli, ['fs', 'ls', readmes, 'packages']);
    expect(listed.stderr).toBe('');
    expect(listed.stdout).toBe('base\nfs\n');
    const cat = await runNodeScript(cli, ['fs', 'cat', readmes, '/packages/fs/README.md', '--members', '3']);
    expect(cat.stdout).toBe(readFileSync(join(root, 'packages/fs/README.md'), 'utf8'));
  });

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

describe('the file system of a multi-machine instance', () => {
  it('serves a client on another machine through the proxies; each machine names its members apart', async () => {
    const clusterKey = parseClusterKey(newClusterKeyText());
    const alpha = await boot({
      fabric: 'local',
      cores: 4,
      machine: 'alpha',
      listen: '127.0.0.1:0',
      clusterKey,
      fs: { image, members: 1 },
    });
    try {
      const beta = await boot({
        fabric: 'local',
        cores: 4,
        machine: 'beta',
        join: alpha.cluster!.listen!,
        clusterKey,
        fs: { image: readFileSync(image), members: 1 },
      });
      try {
        expect(alpha.fs?.members).toEqual(['/sys/fs/alpha-0']);
        expect(beta.fs?.members).toEqual(['/sys/fs/beta-0']);
        expect(beta.fs?.device.name).toBe('/sys/blockdev/beta');
        const client = await beta.spawn({
          core: 3,
          module: processesModule,
          entry: 'fsDigests',
          args: { paths: files },
        });
        const { digests, byMember } = client.result as {
          digests: Record<string, string>;
          byMember: Record<string, number>;
        };
        for (const path of files)
          expect(digests[path], path).toBe(
            createHash('sha256')
              .update(readFileSync(join(extracted, path)))
              .digest('hex'),
          );
        expect(Object.keys(byMember).every((member) => /^\/sys\/fs\/(alpha|beta)-0$/.test(member))).toBe(true);
        // Pinned to alpha's member: every byte crosses the proxies.
        const remote = await beta.spawn({
          core: 3,
          module: processesModule,
          entry: 'fsDigests',
          args: { paths: files, fleet: '/sys/fs/alpha-0' },
        });
        expect((remote.result as { digests: Record<string, string> }).digests).toEqual(digests);
        expect(Object.keys((remote.result as { byMember: Record<string, number> }).byMember)).toEqual([
          '/sys/fs/alpha-0',
        ]);
      } finally {
        await beta.shutdown();
      }
      // Beta left: its member is gone from /sys/fs, and alpha's still serves alpha's clients.
      const client = await alpha.spawn({
        core: 3,
        module: processesModule,
        entry: 'fsDigests',
        args: { paths: files },
      });
      expect(Object.keys((client.result as { byMember: Record<string, number> }).byMember)).toEqual([
        '/sys/fs/alpha-0',
      ]);
    } finally {
      await alpha.shutdown();
    }
  });
});
