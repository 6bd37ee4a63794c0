// HTTP on fos end to end: `boot({ fs, net, http })` and `fos start --fs-image FILE --http PORT` serve the
// files of a tar image to curl, through netif, the netstack fleet and a fos process that reads them
// from the file-system fleet; every connection is a name, gone once it closes.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The built package, as a user runs it: its HTTP file server is spawned from dist/processes.js.
import { boot } from '../dist/index.js';
import { startCli } from './testing/cli-process.js';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const repository = fileURLToPath(new URL('../../../', import.meta.url));
const served = ['README.md', 'packages/netstack/README.md', 'packages/fs/README.md'];

let work: string;
let image: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'fos-system-http-'));
  image = join(work, 'readmes.tar');
  execFileSync('tar', ['-cf', image, '-C', repository, ...served]);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** curl's body and status for `url` (several URLs: one curl, one keep-alive connection). */
async function curl(...args: string[]): Promise<string> {
  return (await run('curl', ['-sS', ...args], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 })).stdout;
}

describe.each([['local'], ['worker']] as const)('boot({ fs, net, http }) on fabric %s', (fabric) => {
  it("serves the image's files to curl, keep-alive included, and removes every connection name", async () => {
    const instance = await boot({ fabric, cores: 4, fs: { image }, net: { members: 2 }, http: { port: 0 } });
    try {
      const base = `http://127.0.0.1:${instance.http!.port}`;
      for (const path of served)
        expect(await curl('-f', `${base}/${path}`)).toBe(readFileSync(join(repository, path), 'utf8'));
      // Three requests on one keep-alive connection.
      const three = await curl('-f', `${base}/README.md`, `${base}/packages/fs/README.md`, `${base}/README.md`);
      expect(Buffer.byteLength(three)).toBe(
        2 * readFileSync(join(repository, 'README.md')).length + readFileSync(join(repository, served[2]!)).length,
      );
      expect(await curl('-o', '/dev/null', '-w', '%{http_code}', `${base}/no/such/file`)).toBe('404');
      expect(await curl('-o', '/dev/null', '-w', '%{http_code}', '-X', 'DELETE', `${base}/README.md`)).toBe('405');
      const head = await curl('-I', `${base}/README.md`);
      expect(head).toMatch(/^HTTP\/1\.1 200/);
      expect(head).toMatch(new RegExp(`content-length: ${readFileSync(join(repository, 'README.md')).length}`, 'i'));
      expect((await curl('-f', `${base}/packages`)).split('\n')).toEqual(['fs', 'netstack', '']);
      expect(instance.net!.members).toEqual(['/sys/netstack/0', '/sys/netstack/1']);
      // curl closed its connections: their names go.
      const service = instance.nameService!;
      const connectionNames = async () =>
        (
          await service.listMember(service.managementCapability, service.memberNames[0]!, {
            under: '/sys/netstack/connections/*',
          })
        ).names.length;
      for (let wait = 0; (await connectionNames()) > 0; wait++) {
        expect(wait).toBeLessThan(200);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    } finally {
      await instance.shutdown();
    }
  }, 60_000);
});

describe('fos start --fs-image FILE --http 0', () => {
  it('prints where it serves, serves curl, and shuts down on SIGTERM', async () => {
    const fos = await startCli(cli, ['--cores', '4', '--fs-image', image, '--http', '0'], 30_000);
    try {
      const url = /HTTP on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(fos.stdout())?.[1];
      expect(url, fos.stdout()).toBeDefined();
      expect(fos.stdout()).toContain('network /sys/netif/0 with /sys/netstack/0');
      expect(await curl('-f', `${url}README.md`)).toBe(readFileSync(join(repository, 'README.md'), 'utf8'));
      fos.child.kill('SIGTERM');
      expect(await fos.exited).toEqual({ code: 0, signal: null });
      expect(fos.stderr()).toBe('');
    } finally {
      fos.dispose();
    }
  }, 60_000);
});

describe('refused network options', () => {
  it.each([
    [{ fabric: 'sim', fs: { image: new Uint8Array(1024) }, net: {} }, /simulation cannot/],
    [{ fabric: 'local', http: { port: 0 } }, /option http serves the files of option fs/],
    [{ fabric: 'local', nameServers: 0, net: {} }, /need a name service/],
    [{ fabric: 'local', net: { members: 0 } }, /net\.members/],
    [{ fabric: 'local', fs: { image: 'x' }, http: { port: 65_536 } }, /http\.port/],
    [{ fabric: 'local', net: { wire: 'host' } }, /wire/],
  ])('boot(%j) is BAD_REQUEST', async (options, message) => {
    const error = (await boot(options as never).catch((caught: unknown) => caught)) as Error & { code?: string };
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.message).toMatch(message);
  });
});
