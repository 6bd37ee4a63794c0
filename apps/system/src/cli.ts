#!/usr/bin/env node
// The `fos` command. It never calls process.exit: it returns once everything it
// started is shut down, so a dangling port or timer would show as a command that does not end.
import { createRequire } from 'node:module';
import { isFosError } from '@fos/base';
import { readClusterKeyFile, writeClusterKeyFile } from '@fos/proxy';
import { boot, type Instance } from './boot.js';
import { formatDemoSummary, runDemo } from './demo.js';
import { runMachinesDemo } from './demo-machines.js';
import { runFsCommand } from './fs-command.js';
import { echoFleetName } from './processes.js';
import { parseCommandLine, UsageError, type Command } from './internal/command-line.js';

/**
 * Ctrl-C during a run that ends by itself: say so on stderr, then end as the signal ends a process
 * (exit status 130), with the default action the handler had replaced.
 */
function sayWhenInterrupted(what: string): void {
  process.once('SIGINT', () => {
    process.stderr.write(`fos ${what}: interrupted (SIGINT)\n`);
    process.kill(process.pid, 'SIGINT');
  });
}

/** Writes one line to stdout. */
function printLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** This package's version, from its package.json (next to dist/ in the published package). */
function packageVersion(): string {
  const manifest = createRequire(import.meta.url)('../package.json') as { version: string };
  return manifest.version;
}

async function main(argv: readonly string[]): Promise<number> {
  let command: Command;
  try {
    command = parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`fos: ${error.message}\n\n${error.hint}\n`);
    return 2;
  }
  switch (command.kind) {
    case 'help':
      process.stdout.write(`${command.text}\n`);
      return 0;
    case 'version':
      process.stdout.write(`fos ${packageVersion()}\n`);
      return 0;
    case 'demo': {
      sayWhenInterrupted('demo');
      if (command.machines > 1) {
        process.stdout.write(
          `fos demo: starting ${command.machines} machines on loopback (this process and ${command.machines - 1} \`fos start\` process${command.machines > 2 ? 'es' : ''}), then ${command.messages} round trips by name…\n`,
        );
        const result = await runMachinesDemo({
          machines: command.machines,
          messages: command.messages,
          log: printLine,
          progress: printLine,
        });
        process.stdout.write(`${formatDemoSummary(result)}\n`);
        return 0;
      }
      process.stdout.write(
        `fos demo: booting ${command.cores} cores on the ${command.fabric} fabric, then ${command.messages} round trips by name…\n`,
      );
      const result = await runDemo({
        cores: command.cores,
        messages: command.messages,
        fabric: command.fabric,
        nameServers: command.nameServers,
        ...(command.seed === undefined ? {} : { seed: command.seed }),
        progress: printLine,
      });
      process.stdout.write(`${formatDemoSummary(result)}\n`);
      return 0;
    }
    case 'start':
      return start(command);
    case 'fs': {
      const { verb, image, path, members } = command;
      process.stdout.write(await runFsCommand({ verb, image, path, members }));
      return 0;
    }
    case 'cluster-init':
      await writeClusterKeyFile(command.file);
      process.stdout.write(
        `fos: wrote a new cluster key to ${command.file} (mode 600); copy it to every machine over a secure channel and start each with --cluster-key ${command.file}\n`,
      );
      return 0;
  }
}

type StartCommand = Extract<Command, { kind: 'start' }>;

async function bootMachine(command: StartCommand): Promise<Instance> {
  const { fabric, cores, nameServers } = command;
  const fs = {
    ...(command.fsImage === undefined ? {} : { fs: { image: command.fsImage, members: command.fsMembers } }),
    ...(command.netMembers === undefined ? {} : { net: { members: command.netMembers } }),
    ...(command.httpPort === undefined ? {} : { http: { port: command.httpPort } }),
  };
  if (command.clusterKeyFile === undefined) return boot({ fabric, cores, nameServers, ...fs });
  const clusterKey = await readClusterKeyFile(command.clusterKeyFile);
  return boot({
    fabric: 'local',
    cores,
    nameServers,
    machine: command.machine!,
    clusterKey,
    ...(command.listen === undefined ? {} : { listen: command.listen }),
    ...(command.join === undefined ? {} : { join: command.join }),
    agents: command.agents,
    ...fs,
    log: (line, level) => (level === 'error' ? process.stderr : process.stdout).write(`${line}\n`),
  });
}

/** An echo member `/sys/echo/<machine>` in the fleet `/sys/echo` (`--echo`). */
async function startEcho(instance: Instance): Promise<void> {
  const name = `${echoFleetName}/${instance.machine.name}`;
  await instance.spawn({
    core: Math.min(1, instance.cores - 1),
    module: new URL('./processes.js', import.meta.url),
    entry: 'echoMember',
    name: 'echo',
    args: { name, fleet: echoFleetName, capability: instance.nameService!.rootCapability, weight: 1 },
  });
}

function describeMachines(instance: Instance): string {
  const cluster = instance.cluster;
  if (cluster === undefined) return '';
  const machines = cluster
    .machines()
    .map((info) => `${info.machine} (${info.listen ?? 'not listening'})`)
    .join(', ');
  return `; listening on ${cluster.listen ?? 'nothing'}; machines: ${machines}`;
}

function describeFs(instance: Instance): string {
  const fs = instance.fs;
  const net = instance.net;
  const http = instance.http;
  return (
    (fs === undefined
      ? ''
      : `; file system ${fs.device.name} (${fs.device.imageBytes} bytes) served by ${fs.members.join(', ')}`) +
    (net === undefined ? '' : `; network ${net.netif} with ${net.members.join(', ')}`) +
    (http === undefined ? '' : `; HTTP on http://${http.host}:${http.port}/`)
  );
}

async function start(command: StartCommand): Promise<number> {
  const { fabric, cores, nameServers } = command;
  const instance = await bootMachine(command);
  if (command.echo) await startEcho(instance);
  // Signal handlers alone do not keep Node running; this timer does, until a signal arrives.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (received: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(received);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.stdout.write(
      `fos: up — fabric ${fabric}, ${cores} cores, ${nameServers} name server(s), machine ${instance.machine.name}, pid ${process.pid}${describeMachines(instance)}${describeFs(instance)}; SIGINT or SIGTERM shuts it down\n`,
    );
  });
  clearInterval(keepAlive);
  await instance.shutdown();
  process.stdout.write(`fos: ${signal}: ${instance.cluster === undefined ? '' : 'left the instance and '}shut down\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    process.stderr.write(`fos: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = isFosError(error) && error.code === 'BAD_REQUEST' ? 2 : 1;
  },
);
