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

/** The messages of the protocol. */
export type StoreMessage<V> =
  | { readonly kind: 'voteRequest'; readonly request: string; readonly originator: MemberName; readonly modification: Modification<V> }
  | { readonly kind: 'vote'; readonly request: string; readonly yes: boolean }
  | { readonly kind: 'outcome'; readonly request: string; readonly key: string; readonly commit: boolean };

/** How a member reaches its peers: reliable, and in order per (sender, receiver) pair, nothing more. */
export interface StoreTransport<V> {
  /** Sends `message` to the member `to`; fire and forget. */
  send(to: MemberName, message: StoreMessage<V>): void;
}
