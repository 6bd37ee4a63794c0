// Test support: `fos start` as a child process, as a user runs it, up to its "fos: up" line.
import { spawn, type ChildProcess } from 'node:child_process';

/** How a child process ended. */
export type ChildExit = { readonly code: number | null; readonly signal: NodeJS.Signals | null };

/** A running `fos start`: its output so far and its end. */
export interface StartedCli {
  readonly child: ChildProcess;
  /** What it printed on stdout so far. */
  stdout(): string;
  /** What it printed on stderr so far. */
  stderr(): string;
  /** Resolves when it exits. */
  readonly exited: Promise<ChildExit>;
  /** Ends the watchdog (and the process, if it still runs): call it in `finally`. */
  dispose(): void;
}

/**
 * Starts `node cli start …args` and resolves once it printed `fos: up`; rejects with its output when it
 * ends before. A watchdog kills it (SIGKILL) after `watchdogMs`, so that a hang of the command ends as
 * a failed expectation on its exit instead of a stuck test.
 */
export async function startCli(cli: string, args: readonly string[], watchdogMs: number): Promise<StartedCli> {
  const child = spawn(process.execPath, [cli, 'start', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<ChildExit>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const watchdog = setTimeout(() => child.kill('SIGKILL'), watchdogMs);
  const started: StartedCli = {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    dispose: () => {
      clearTimeout(watchdog);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('fos: up')) resolve();
      });
      child.on('exit', () => reject(new Error(`fos start ended before it was up: ${stdout}${stderr}`)));
    });
  } catch (error) {
    started.dispose();
    throw error;
  }
  return started;
}
