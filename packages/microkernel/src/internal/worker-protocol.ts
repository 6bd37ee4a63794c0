// The messages between a machine and the host of one of its cores on a worker thread.
import type { MessagePort } from 'node:worker_threads';
import type { MessageBody } from '@fos/base';
import type { KernelLimits } from '../limits.js';
import type { SerializedFosError } from './serialized-error.js';

/** Bumped whenever these messages change: a host built from older sources refuses to start. */
export const workerProtocolVersion = 2;

/** What a core's host is started with (`workerData`). */
export interface WorkerHostData {
  readonly protocol: number;
  readonly machine: string;
  readonly core: number;
  readonly coreCount: number;
  readonly limits: KernelLimits;
  readonly kernelCapabilityHash: string;
  /** A port to the kernel of every other core (null at this core's own index). */
  readonly peers: ReadonlyArray<MessagePort | null>;
  /** processes, mailboxes, delivered, refused: written by the host's kernel, read by the machine. */
  readonly stats: SharedArrayBuffer;
  /** Two Int32 per core: its doorbell (bumped by ring writers) and whether it sleeps on it. */
  readonly doorbells: SharedArrayBuffer;
  /** How long a core spins on its doorbell after ring traffic before it sleeps, in µs. */
  readonly spinMicros: number;
}

/** Machine → host. */
export type ToHost =
  | {
      readonly kind: 'spawn';
      readonly id: number;
      readonly module: string;
      readonly entry?: string;
      readonly args: MessageBody;
      readonly name?: string;
    }
  | { readonly kind: 'kill'; readonly process: string }
  | { readonly kind: 'shutdown' };

/** Host → machine. */
export type FromHost =
  | { readonly kind: 'ready' }
  | {
      readonly kind: 'spawned';
      readonly id: number;
      readonly process: string;
      readonly name: string;
      readonly result: MessageBody;
    }
  | { readonly kind: 'spawnFailed'; readonly id: number; readonly error: SerializedFosError }
  | { readonly kind: 'exited'; readonly process: string; readonly crashed: boolean; readonly error?: string }
  | { readonly kind: 'log'; readonly line: string }
  | { readonly kind: 'shutDown' };
