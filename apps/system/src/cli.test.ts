import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { runNodeScript, type ScriptRun } from '@fos/base/testing';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defaultDemoSeed, parseCommandLine, UsageError } from './internal/command-line.js';
import { startCli } from './testing/cli-process.js';

// These run the built command, as a user does (turbo builds this package before testing it).
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

function runCli(...args: string[]): Promise<ScriptRun> {
  return runNodeScript(cli, args);
}

/** What bounds a hang of one test that runs the command (never its speed). */
const cliTestTimeoutMs = 120_000;

describe('fos (built)', { timeout: cliTestTimeoutMs }, () => {
  it('prints its commands and options for --help', async () => {
    const main = await runCli('--help');
    expect(main.status).toBe(0);
    for (const text of ['demo', 'start', '--cores', '--messages', '--fabric', '--seed'])
      expect(main.stdout).toContain(text);
    const demo = await runCli('demo', '--', '--help');
    expect(demo.status).toBe(0);
    expect(demo.stdout).toContain('fos demo [--cores N] [--messages N] [--fabric local|sim|worker] [--seed N]');
  });

  it('prints its version for --version', async () => {
    const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    for (const flag of ['--version', '-v', 'version'])
      expect(await runCli(flag)).toEqual({ status: 0, stdout: `fos ${version}\n`, stderr: '' });
  });

  it('says so on stderr when Ctrl-C ends a demo, and ends as SIGINT ends a process', async () => {
    const child = spawn(process.execPath, [cli, 'demo', '--messages', '10000000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    // Its first line is printed once its handler is in place.
    await new Promise((resolve) => child.stdout.once('data', resolve));
    child.kill('SIGINT');
    expect(await exited).toBe('SIGINT');
    expect(stderr).toBe('fos demo: interrupted (SIGINT)\n');
  });

  it('runs the demo to the end and exits 0 on its own', async () => {
    const result = await runCli('demo', '--', '--messages', '200');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^fos demo: booting 4 cores on the local fabric, then 200 round trips by name…\n/);
    expect(result.stdout).toMatch(/fabric\s+local/);
    expect(result.stdout).toMatch(/round trips\s+200 \(200 verified/);
    expect(result.stdout).toMatch(/\/sys\/echo\s+indirect/);
    expect(result.stdout).toMatch(/round trips\/s\s+\d+/);
  });

  it('runs the demo on the sim fabric', async () => {
    const result = await runCli('demo', '--fabric', 'sim', '--seed', '3', '--messages', '50', '--cores', '3');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/fabric\s+sim \(seed=3\)/);
    expect(result.stdout).toMatch(/round trips\s+50 \(50 verified/);
  });

  it('writes a cluster key file readable by its owner only, and never overwrites one', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'fos-cli-'));
    try {
      const file = join(directory, 'cluster.key');
      const first = await runCli('cluster', 'init', file);
      expect(first.status).toBe(0);
      expect(first.stdout).toContain(`--cluster-key ${file}`);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const second = await runCli('cluster', 'init', file);
      expect(second.status).toBe(1);
      expect(second.stderr).toContain('exists already');
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('refuses an unknown option on stderr with exit status 2', async () => {
    const result = await runCli('demo', '--frobnicate');
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('unknown option --frobnicate');
    expect((await runCli('launch')).status).toBe(2);
    expect((await runCli()).status).toBe(2);
  });

  it.each([['local'], ['worker']])(
    'start (fabric %s) stays up until SIGTERM, then shuts down and exits 0',
    async (fabric) => {
      const fos = await startCli(cli, ['--cores', '2', '--fabric', fabric, '--name-servers', '2'], 20_000);
      try {
        expect(fos.stdout()).toMatch(new RegExp(`fos: up — fabric ${fabric}, 2 cores, 2 name server`));
        fos.child.kill('SIGTERM');
        expect(await fos.exited).toEqual({ code: 0, signal: null });
        expect(fos.stdout()).toContain('SIGTERM: shut down');
        expect(fos.stderr()).toBe('');
      } finally {
        fos.dispose();
      }
    },
  );
});

describe('parseCommandLine', () => {
  it('reads fs commands and the file-system options of start', () => {
    expect(parseCommandLine(['fs', 'ls', 'a.tar'])).toEqual({
      kind: 'fs',
      verb: 'ls',
      image: 'a.tar',
      path: '/',
      members: 2,
    });
    expect(parseCommandLine(['fs', 'cat', 'a.tar', 'x/y', '--members', '4'])).toEqual({
      kind: 'fs',
      verb: 'cat',
      image: 'a.tar',
      path: 'x/y',
      members: 4,
    });
    expect(parseCommandLine(['fs', '--help'])).toMatchObject({ kind: 'help' });
    expect(parseCommandLine(['start', '--fs-image', 'a.tar', '--fs-members', '3'])).toMatchObject({
      kind: 'start',
      fsImage: 'a.tar',
      fsMembers: 3,
    });
    const usage = (argv: string[]): string => {
      try {
        parseCommandLine(argv);
      } catch (error) {
        if (error instanceof UsageError) return error.message;
        throw error;
      }
      return 'accepted';
    };
    expect(usage(['fs', 'rm', 'a.tar'])).toContain('unknown command "rm"');
    expect(usage(['fs', 'cat'])).toContain('missing IMAGE');
    expect(usage(['fs', 'ls', 'a.tar', '/', 'extra'])).toContain('unexpected argument extra');
    expect(usage(['fs', 'ls', 'a.tar', '--members', '0'])).toContain('--members "0"');
    expect(usage(['fs', 'ls', 'a.tar', '--force'])).toContain('unknown option');
    expect(usage(['start', '--fs-members', '2'])).toContain('--fs-members goes with --fs-image');
    expect(usage(['start', '--fs-image', 'a.tar', '--name-servers', '0'])).toContain('needs a name service');
  });

  it('ignores a bare -- wherever it appears', () => {
    expect(parseCommandLine(['--', 'demo', '--', '--cores', '8', '--'])).toEqual({
      kind: 'demo',
      cores: 8,
      messages: 10_000,
      fabric: 'local',
      seed: undefined,
      nameServers: 1,
      machines: 1,
    });
    expect(parseCommandLine(['demo', '--', '--messages=20', '--fabric', 'sim'])).toEqual({
      kind: 'demo',
      cores: 4,
      messages: 20,
      fabric: 'sim',
      seed: defaultDemoSeed,
      nameServers: 1,
      machines: 1,
    });
    expect(parseCommandLine(['demo', '--name-servers', '3'])).toMatchObject({ kind: 'demo', nameServers: 3 });
    expect(parseCommandLine(['start', '--', '-h'])).toMatchObject({ kind: 'help' });
  });

  it('defaults start to local with 4 cores', () => {
    const alone = {
      machine: undefined,
      listen: undefined,
      join: undefined,
      clusterKeyFile: undefined,
      agents: false,
      echo: false,
      fsImage: undefined,
      fsMembers: 1,
    };
    expect(parseCommandLine(['start'])).toEqual({ kind: 'start', fabric: 'local', cores: 4, nameServers: 1, ...alone });
    expect(parseCommandLine(['start', '--name-servers', '3'])).toEqual({
      kind: 'start',
      fabric: 'local',
      cores: 4,
      nameServers: 3,
      ...alone,
    });
    expect(parseCommandLine(['start', '--fabric', 'worker', '--cores', '8'])).toEqual({
      kind: 'start',
      fabric: 'worker',
      cores: 8,
      nameServers: 1,
      ...alone,
    });
    expect(parseCommandLine(['demo', '--fabric', 'worker'])).toMatchObject({
      kind: 'demo',
      fabric: 'worker',
      seed: undefined,
    });
  });

  it('refuses what it cannot run, with the help to read', () => {
    const refusal = (argv: string[]): string => {
      try {
        parseCommandLine(argv);
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        return (error as UsageError).message;
      }
      throw new Error(`accepted ${argv.join(' ')}`);
    };
    expect(refusal(['demo', '--cores', '2'])).toContain('--cores "2"');
    expect(refusal(['demo', '--name-servers', '9'])).toContain('--name-servers "9"');
    expect(refusal(['demo', '--messages', '1e3'])).toContain('--messages "1e3"');
    expect(refusal(['demo', '--seed', '5'])).toContain('sim only');
    expect(refusal(['demo', '--fabric', 'threads'])).toContain('--fabric "threads"');
    expect(refusal(['start', '--fabric', 'sim'])).toContain('--fabric "sim"');
    expect(refusal(['start', '--messages', '5'])).toContain('unknown option --messages');
    expect(refusal(['demo', 'extra'])).toContain('unexpected argument extra');
    expect(refusal(['--cores', '4'])).toContain('unknown option --cores');
    expect(refusal(['demo', '--machines', '2', '--fabric', 'sim', '--seed', '1'])).toContain('--fabric local');
    expect(refusal(['demo', '--machines', '9'])).toContain('--machines "9"');
    expect(refusal(['start', '--listen', '127.0.0.1:0', '--machine', 'a'])).toContain('--cluster-key');
    expect(refusal(['start', '--join', '127.0.0.1:1', '--cluster-key', 'k'])).toContain('--machine');
    expect(
      refusal(['start', '--listen', ':0', '--cluster-key', 'k', '--machine', 'a', '--fabric', 'worker']),
    ).toContain('local only');
    expect(refusal(['start', '--cluster-key', 'k'])).toContain('go with --listen or --join');
    expect(refusal(['start', '--echo', '--name-servers', '0'])).toContain('--echo needs a name service');
    expect(refusal(['cluster', 'make', 'f'])).toContain('unknown command "make"');
    expect(refusal(['cluster', 'init'])).toContain('missing FILE');
  });

  it('parses a machine of a multi-machine instance, and cluster init', () => {
    expect(
      parseCommandLine([
        'start',
        '--machine',
        'b',
        '--cluster-key',
        'k',
        '--join',
        '10.0.0.1:7000',
        '--listen',
        '0.0.0.0:7000',
        '--echo',
      ]),
    ).toEqual({
      kind: 'start',
      fabric: 'local',
      cores: 4,
      nameServers: 1,
      machine: 'b',
      listen: '0.0.0.0:7000',
      join: '10.0.0.1:7000',
      clusterKeyFile: 'k',
      agents: false,
      echo: true,
      fsImage: undefined,
      fsMembers: 1,
    });
    expect(parseCommandLine(['cluster', 'init', '/tmp/x.key'])).toEqual({ kind: 'cluster-init', file: '/tmp/x.key' });
    expect(parseCommandLine(['demo', '--machines', '2'])).toMatchObject({ kind: 'demo', machines: 2, fabric: 'local' });
  });
});
