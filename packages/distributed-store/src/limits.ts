/** Entries a {@link LocalStore} holds at most by default; one more insert is `LIMIT_EXCEEDED`. */
export const storeEntriesMax = 1_048_576;

/** Characters of a key at most; a longer key is `BAD_REQUEST`. */
export const storeKeyCharactersMax = 1024;

/**
 * Encoded bytes of one value at most (`MESSAGE_TOO_LARGE` beyond). Larger than a message body
 * (64 KiB): a name entry with 1024 destinations of 255 characters is about 300 KiB.
 */
export const storeValueBytesMax = 4 * 1024 * 1024;

/** How long a Get of the replicated store waits for a pending entry's outcome before it answers `TIMEOUT`, in ms. */
export const pendingGetWaitMsMax = 1_000;

/** Characters of a replicated-store member's name at most (names are fos names, or short ids in a simulation). */
export const storeMemberNameCharactersMax = 255;

/** Peers of one replicated-store member at most (a fleet of this many plus one). */
export const storePeersMax = 255;

/** Votes one replicated-store member waits for at once (modifications it originated), at most; more is `LIMIT_EXCEEDED`. */
export const requestsInFlightMax = 65_536;

/**
 * Encoded bytes of table entries one `install` message carries, by default (a joining member gets the
 * table in parts of at most this much, so a table of any size fits messages of 64 KiB). An entry larger
 * than the bound travels alone.
 */
export const installChunkBytesDefault = 16 * 1024;
