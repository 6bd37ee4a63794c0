// The messages members of a replicated store exchange (thesis §4.4.2, Figure 4-2): a vote request
// from the originator of a modification, each member's vote, and the outcome. Type aliases, not
// interfaces, so that they are message bodies.

/** A member's name; the lexicographically lowest originator has priority (thesis §4.4.2). */
export type MemberName = string;

/** A modification as it travels: what to do to one key, and its precondition. */
export type Modification<V> =
  | { readonly op: 'insert'; readonly key: string; readonly value: V }
  | { readonly op: 'update'; readonly key: string; readonly value: V; readonly expectedVersion: number }
  | { readonly op: 'delete'; readonly key: string; readonly expectedVersion: number };

/** One committed entry of a table, as a snapshot or an install carries it. */
export type TableEntry<V> = { readonly key: string; readonly value: V; readonly version: number };

/** A change of membership: a member joins or leaves. */
export type MembershipChange = { readonly change: string; readonly op: 'join' | 'leave'; readonly member: MemberName };

/** The messages of the protocol: modifications (Figure 4-2) and membership changes (§4.4.4, Table 4.7). */
export type StoreMessage<V> =
  | {
      readonly kind: 'voteRequest';
      readonly request: string;
      readonly originator: MemberName;
      readonly modification: Modification<V>;
    }
  | { readonly kind: 'vote'; readonly request: string; readonly yes: boolean }
  | { readonly kind: 'outcome'; readonly request: string; readonly key: string; readonly commit: boolean }
  /** To the coordinator (the lowest-named member): please carry out this change. */
  | { readonly kind: 'membershipRequest'; readonly change: MembershipChange; readonly replyTo: MemberName }
  /** From the coordinator: the change is done (or refused, with a reason). */
  | { readonly kind: 'membershipDone'; readonly change: string; readonly error?: string }
  /** From the coordinator: take the blocking lock, answer once no modification is pending here. */
  | { readonly kind: 'block'; readonly change: string }
  | { readonly kind: 'blocked'; readonly change: string }
  /**
   * From the coordinator to a newcomer: one part of the table (parts numbered from 0, each within
   * the coordinator's `installChunkBytesMax`); the last part carries the members. Answer once installed.
   */
  | {
      readonly kind: 'install';
      readonly change: string;
      readonly part: number;
      readonly table: ReadonlyArray<TableEntry<V>>;
      /** Set on the last part only. */
      readonly members?: readonly MemberName[];
    }
  | { readonly kind: 'installed'; readonly change: string }
  /** From the coordinator: the members from now on; releases the blocking lock. `ack`: answer `membersApplied`. */
  | {
      readonly kind: 'members';
      readonly change: string;
      readonly members: readonly MemberName[];
      readonly ack?: boolean;
    }
  | { readonly kind: 'membersApplied'; readonly change: string };

/** How a member reaches its peers: reliable, and in order per (sender, receiver) pair, nothing more. */
export interface StoreTransport<V> {
  /** Sends `message` to the member `to`; fire and forget. */
  send(to: MemberName, message: StoreMessage<V>): void;
}
