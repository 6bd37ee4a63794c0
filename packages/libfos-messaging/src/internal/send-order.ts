// The order of one process's sends to one intended name (see `Libfos.deliver`): a ticket per send, in
// the order the sends were called.

/** One send to a name, as the sends after it see it: where its first attempt went, issued yet, settled (with every earlier one). */
export type SendTicket = {
  location: string | undefined;
  readonly issued: boolean;
  /** True once it and every send before it have settled (known without waiting). */
  readonly settledWithEarlier: boolean;
  /** Resolves once issued. */
  whenIssued(): Promise<void>;
  /** Resolves once it and every send before it have settled. */
  whenSettled(): Promise<void>;
  markIssued(): void;
  markSettled(): void;
};

/** The sends to one intended name that are in progress: the last one's ticket, and how many recover from a refusal. */
export type SendOrder = { last: SendTicket | undefined; recovering: number; inProgress: number };

const settledAlready = Promise.resolve();

/**
 * A ticket after `earlier`: it counts as settled once it and every send before it have settled. Its
 * promises are made only when a later send waits on it (most never do: one send at a time, or sends
 * that follow one another to one place), at most one of each kind, each chained to the one before
 * through a promise job (never a deep recursion).
 */
export function newSendTicket(earlier: SendTicket | undefined): SendTicket {
  let issued = false;
  let settled = false;
  let before = earlier;
  let issuedWaiters: Array<() => void> | undefined;
  let settledWaiters: Array<() => void> | undefined;
  let settledPromise: Promise<void> | undefined;
  const ticket: SendTicket = {
    location: undefined,
    get issued() {
      return issued;
    },
    get settledWithEarlier() {
      return settled && before === undefined;
    },
    whenIssued: () => (issued ? settledAlready : new Promise<void>((resolve) => (issuedWaiters ??= []).push(resolve))),
    whenSettled: () => {
      if (settled && before === undefined) return settledAlready;
      if (settledPromise === undefined) {
        const own = settled ? settledAlready : new Promise<void>((resolve) => (settledWaiters ??= []).push(resolve));
        settledPromise = own.then(() => before?.whenSettled());
      }
      return settledPromise;
    },
    markIssued: () => {
      if (issued) return;
      issued = true;
      for (const wake of issuedWaiters?.splice(0) ?? []) wake();
    },
    markSettled: () => {
      if (settled) return;
      settled = true;
      for (const wake of settledWaiters?.splice(0) ?? []) wake();
      // The sends before it settled first (the usual order): it need not hold on to them.
      if (before?.settledWithEarlier === true) before = undefined;
    },
  };
  return ticket;
}
