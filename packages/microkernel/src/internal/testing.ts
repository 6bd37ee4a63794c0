import { FosError, hasFosErrorCode, type Clock, type MessageBody, type RandomSource } from '@fos/base';
import type { Capability } from '../capability.js';
import type { KernelLimits } from '../limits.js';
import { LocalFabric } from '../local-fabric.js';
import type { MailboxLocation } from '../location.js';
import { Machine } from '../machine.js';
import type { ProcessContext, SystemCalls } from '../process.js';
import { SimFabric } from '../sim-fabric.js';

/** The in-thread fabrics every scenario runs on. */
export type TestFabricKind = 'local' | 'sim';

/** A machine for a test, on either fabric; crashes are collected instead of printed. */
export function testMachine(
  kind: TestFabricKind,
  options: { cores?: number; seed?: number; limits?: Partial<KernelLimits> } = {},
): { machine: Machine; crashes: string[] } {
  const cores = options.cores ?? 4;
  const fabric = kind === 'local' ? new LocalFabric({ cores }) : new SimFabric({ cores, seed: options.seed ?? 1 });
  const crashes: string[] = [];
  const machine = new Machine({
    fabric,
    log: (line) => crashes.push(line),
    ...(options.limits ? { limits: options.limits } : {}),
  });
  return { machine, crashes };
}

/** Runs `body` inside a process on `core` and returns its context (the process stays alive). */
export async function processOn(machine: Machine, core: number, name = `test-${core}`): Promise<ProcessContext> {
  let captured: ProcessContext | undefined;
  await machine.spawn({ core, name, function: (context) => void (captured = context) });
  if (captured === undefined) throw new Error('the entry function did not run');
  return captured;
}

/** A mailbox with one name, ready to receive. */
export async function namedMailbox(
  kernel: SystemCalls,
  name: string,
  options: { queueMessagesMax?: number } = {},
): Promise<{ location: MailboxLocation; capability: Capability }> {
  const created = await kernel.createMailbox(options);
  await kernel.addName(created.location, name);
  return created;
}

/** Sleeps on the machine's clock (virtual under SimFabric). */
export function sleep(clock: Clock, delayMs: number): Promise<void> {
  return new Promise((resolve) => clock.setTimer(delayMs, resolve));
}

/**
 * ukSend that re-sends after WOULD_BLOCK (filling its own gap), as libfos will, backing off 1 ms or,
 * given a random source, a jittered 1..4 ms (so re-sends of one stream race each other).
 */
export async function sendWithRetry(
  kernel: SystemCalls,
  clock: Clock,
  name: string,
  location: MailboxLocation,
  capability: Capability,
  body: MessageBody,
  jitter?: RandomSource,
  attemptsMax = 100_000,
): Promise<number> {
  let resendOf: number | undefined;
  for (let attempt = 1; attempt <= attemptsMax; attempt++) {
    try {
      await kernel.ukSend(name, location, capability, body, resendOf === undefined ? {} : { resendOf });
      return attempt;
    } catch (error) {
      if (!hasFosErrorCode(error, 'WOULD_BLOCK')) throw error;
      resendOf = error.details.sequence;
      await sleep(clock, 1 + (jitter?.nextInt(4) ?? 0));
    }
  }
  throw new FosError('TIMEOUT', `send to ${name} still refused after ${attemptsMax} attempts`);
}
