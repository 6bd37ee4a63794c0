// An agent's stream of numbered sends: the traffic that keeps flowing while a scenario moves a
// mailbox or changes a fleet underneath it.
import type { Libfos } from '@fos/libfos-messaging';
import { isFosError } from '@fos/base';
import type { ProcessContext } from '@fos/microkernel';
import { agentStreamFailuresMax, agentStreamMessagesMax, errorText, type AgentStreamResult } from './agent-protocol.js';

/** An agent's stream of numbered sends (the `streamStart` command). */
export class Stream {
  readonly #failures: string[] = [];
  #failed = 0;
  #sent = 0;
  #completed = 0;
  #stopping = false;
  readonly #done: Promise<void>;
  readonly #waiters: Array<{ completed: number; resolve: () => void }> = [];
  #ended = false;

  constructor(libfos: Libfos, context: ProcessContext, name: string, window: number, intervalMs: number) {
    const inFlight = new Set<Promise<void>>();
    this.#done = (async () => {
      while (!this.#stopping && this.#sent < agentStreamMessagesMax) {
        while (inFlight.size >= window) await Promise.race(inFlight);
        if (this.#stopping) break;
        const sending = libfos
          .send(name, { sequence: this.#sent })
          .catch((error: unknown) => {
            if (this.#failures.length < agentStreamFailuresMax) this.#failures.push(errorText(error));
            this.#failed++;
            // The agent's process (or its core) is gone: nothing more can be sent.
            if (isFosError(error) && error.code === 'SHUTDOWN') this.#stopping = true;
          })
          .finally(() => {
            inFlight.delete(sending);
            this.#completed++;
            this.#wake();
          });
        inFlight.add(sending);
        this.#sent++;
        await new Promise<void>((resolve) => context.clock.setTimer(intervalMs, resolve));
      }
      await Promise.all(inFlight);
      this.#ended = true;
      this.#wake();
    })();
  }

  /** Resolves once `completed` sends are done (or the stream ended); answers how many are done. */
  async waitCompleted(completed: number): Promise<number> {
    if (this.#completed < completed && !this.#ended)
      await new Promise<void>((resolve) => this.#waiters.push({ completed, resolve }));
    return this.#completed;
  }

  async stop(): Promise<AgentStreamResult> {
    this.#stopping = true;
    await this.#done;
    return { sent: this.#sent, failures: this.#failures, failed: this.#failed };
  }

  #wake(): void {
    for (let index = this.#waiters.length - 1; index >= 0; index--) {
      const waiter = this.#waiters[index]!;
      if (this.#ended || this.#completed >= waiter.completed) {
        this.#waiters.splice(index, 1);
        waiter.resolve();
      }
    }
  }
}
