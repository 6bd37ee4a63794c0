#!/usr/bin/env node
// The `fos` command. It never calls process.exit: it returns once everything it
// started is shut down, so a dangling port or timer would show as a command that does not end.
import { isFosError } from '@fos/base';
import { boot } from './boot.js';
import { formatDemoSummary, runDemo } from './demo.js';
import { parseCommandLine, UsageError, type Command } from './internal/command-line.js';

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
    case 'demo': {
      const result = await runDemo({
        cores: command.cores,
        messages: command.messages,
        fabric: command.fabric,
        nameServers: command.nameServers,
        ...(command.seed === undefined ? {} : { seed: command.seed }),
      });
      process.stdout.write(`${formatDemoSummary(result)}\n`);
      return 0;
    }
    case 'start':
      return start(command.fabric, command.cores, command.nameServers);
  }
}

async function start(fabric: 'local' | 'worker', cores: number, nameServers: number): Promise<number> {
  const instance = await boot({ fabric, cores, nameServers });
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
      `fos: up — fabric ${fabric}, ${cores} cores, ${nameServers} name server(s), machine ${instance.machine.name}, pid ${process.pid}; SIGINT or SIGTERM shuts it down\n`,
    );
  });
  clearInterval(keepAlive);
  await instance.shutdown();
  process.stdout.write(`fos: ${signal}: shut down\n`);
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
