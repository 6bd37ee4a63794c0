// What goes into a replicated-store member's core and what comes out of it: plain data, so that any
// host (the simulator, a fos mailbox, a test that orders messages by hand) can drive it.
import type { FosError } from '@fos/base';
import type { Versioned } from '../store.js';
import type { MemberName, Modification, StoreMessage } from './messages.js';

/** Names one operation proposed to a core, from 1 up; its completion carries the same id. */
export type OperationId = number;

/** An operation a member's user asks of its core: Table 4.4's four, and Table 4.6's join and leave. */
export type ProposedOperation<V> =
  | Modification<V>
  | { readonly op: 'get'; readonly key: string }
  /** Called on a newcomer: asks `sponsor`, an installed member, to add it; completes once this member serves. */
  | { readonly op: 'join'; readonly sponsor: MemberName }
  /** Removes this member from every peer list (never the last member). */
  | { readonly op: 'leave' };

/** How an operation ended: `entry` is a Get's answer (undefined for everything else), `error` an operating error. */
export type OperationResult<V> =
  { readonly ok: true; readonly entry: Versioned<V> | undefined } | { readonly ok: false; readonly error: FosError };

/** An operation that completed, with its id. */
export type CompletedOperation<V> = { readonly id: OperationId; readonly result: OperationResult<V> };

/** A message the host must deliver to member `to` (reliably, and in order per sender→receiver pair). */
export type OutgoingMessage<V> = { readonly to: MemberName; readonly message: StoreMessage<V> };

/** What a core hands its host: the effects of every input since the last call (see `StoreCore.ready`). */
export type StoreReady<V> = {
  /** Messages to send, in the order they must leave. */
  readonly messages: ReadonlyArray<OutgoingMessage<V>>;
  /** Operations that completed, in the order they completed. */
  readonly completed: ReadonlyArray<CompletedOperation<V>>;
  /** When the host must call `tick` (a waiting Get's deadline), or undefined when no deadline is pending. */
  readonly wakeAtMs: number | undefined;
};

/** Options of a replicated-store member's core. */
export interface StoreCoreOptions {
  /** This member's name (its priority: the lexicographically lowest originator wins). */
  readonly name: MemberName;
  /** The other members. */
  readonly peers: readonly MemberName[];
  /** Encoded bytes of entries per `install` part (default `installChunkBytesDefault`). */
  readonly installChunkBytesMax?: number;
  /**
   * A newcomer: it serves nothing until a join installed the table (Gets and modifications wait).
   * Its `peers` are then ignored.
   */
  readonly joining?: boolean;
}

/** Counters of a member. */
export type StoreCoreStats = {
  readonly committed: number;
  readonly conflicts: number;
  readonly votesYes: number;
  readonly votesNo: number;
  readonly arbiterWaits: number;
  readonly getWaits: number;
};
