// One instance over three OS processes (`fos start`, the built command) on loopback over real TLS: the
// naming scenarios run with their processes spread over the three machines, driven from this test
// process, which joins the instance as a fourth machine and asks the others for agents through its
// proxy (`peerMachine`, `fos start --agents`). Then one machine leaves cleanly (SIGTERM) and one is
// killed: every location on it is UNREACHABLE at once, nothing hangs.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codeOf } from '@fos/base/testing';
import { readClusterKeyFile, writeClusterKeyFile } from '@fos/proxy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshProcess, loadBalancing, revokedCapability, staleCache } from './fixtures/scenarios.js';
import { boot, type Instance } from './index.js';
import { onMachines, peerMachine, RemoteAgent, rootOf, type Placement } from './testing.js';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

interface MachineProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Everything it printed. */
  readonly output: string[];
  readonly address: string;
  readonly exited: Promise<number | null>;
}

/** Starts `fos start` as a machine; resolves once it is up, with the address it listens on. */
function startMachine(name: string, keyFile: string, join?: string): Promise<MachineProcess> {
  const args = [cli, 'start', '--machine', name, '--cluster-key', keyFile, '--listen', '127.0.0.1:0', '--agents'];
  if (join !== undefined) args.push('--join', join);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output.push(chunk.toString());
      const up = /fos: up .* listening on (\S+?);/.exec(output.join(''));
      if (up !== null) resolve({ name, child, output, address: up[1]!, exited });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    void exited.then((code) => reject(new Error(`machine ${name} exited (${code}): ${output.join('')}`)));
  });
}

let directory: string;
const children: MachineProcess[] = [];
let tester: Instance;
let placement: Placement;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'fos-machines-'));
  const keyFile = join(directory, 'cluster.key');
  await writeClusterKeyFile(keyFile);
  const alpha = await startMachine('alpha', keyFile);
  children.push(alpha);
  children.push(await startMachine('beta', keyFile, alpha.address));
  children.push(await startMachine('gamma', keyFile, alpha.address));
  tester = await boot({
    fabric: 'local',
    cores: 2,
    machine: 'tester',
    join: alpha.address,
    listen: '127.0.0.1:0',
    clusterKey: await readClusterKeyFile(keyFile),
  });
  placement = onMachines(
    children.map((machine) => peerMachine(tester, machine.name)),
    { root: rootOf(tester), management: tester.nameService!.managementCapability },
  );
}, 60_000);

afterAll(async () => {
  await tester?.shutdown();
  for (const machine of children) machine.child.kill('SIGKILL');
  await Promise.all(children.map((machine) => machine.exited.catch(() => null)));
  await rm(directory, { recursive: true, force: true });
});

describe('one instance over three OS processes on loopback (TLS)', () => {
  it('knows every machine everywhere', () => {
    expect(
      tester
        .cluster!.machines()
        .map((info) => info.machine)
        .sort(),
    ).toEqual(['alpha', 'beta', 'gamma', 'tester']);
    for (const machine of children.slice(1))
      expect(machine.output.join('')).toMatch(/machines: .*alpha \(127\.0\.0\.1:\d+\)/);
  });

  it.each(Object.entries({ staleCache, revokedCapability, freshProcess, loadBalancing }))(
    'scenario %s holds with its processes on alpha, beta and gamma',
    async (_, scenario) => {
      await scenario(placement);
    },
    120_000,
  );

  it('a machine that leaves (SIGTERM) takes its names with it; one that is killed is UNREACHABLE at once', async () => {
    const [, beta, gamma] = children as [MachineProcess, MachineProcess, MachineProcess];
    const client = await RemoteAgent.spawn(tester, 1, 'watcher');
    const onGamma = await RemoteAgent.spawn(peerMachine(tester, 'gamma'), 1, 'leaver');
    await onGamma.aliasRegisterDirect('/svc/on-gamma', await onGamma.createMailbox('/svc/on-gamma'), placement.root);
    const onBeta = await RemoteAgent.spawn(peerMachine(tester, 'beta'), 1, 'victim');
    await onBeta.aliasRegisterDirect('/svc/on-beta', await onBeta.createMailbox('/svc/on-beta'), placement.root);
    await client.send('/svc/on-gamma', 'before');
    await client.send('/svc/on-beta', 'before');
    gamma.child.kill('SIGTERM');
    expect(await gamma.exited).toBe(0);
    expect(gamma.output.join('')).toMatch(/SIGTERM: left the instance and shut down/);
    const names = (await client.list(placement.management)).names.map((entry) => entry.name);
    expect(names).not.toContain('/svc/on-gamma');
    expect(names).not.toContain('/sys/proxy/gamma');
    expect(await codeOf(client.lookup('/svc/on-gamma'))).toBe('NO_SUCH_NAME');
    beta.child.kill('SIGKILL');
    await beta.exited;
    // Its names stay (crash handling is later work), but nothing waits for it.
    expect(await codeOf(client.send('/svc/on-beta', 'after'))).toBe('UNREACHABLE');
    await client.send('/sys/proxy/alpha', 'still here');
  }, 60_000);
});
