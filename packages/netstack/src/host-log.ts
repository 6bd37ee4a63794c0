// The host's stderr, where netif's log lines go (besides its `info`): netif is the process that owns
// host resources, and a refused connection is something its operator should see.

/** Writes one log line to the host's stderr. */
export function hostLog(line: string): void {
  console.warn(line);
}
