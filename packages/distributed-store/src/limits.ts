/** Entries a {@link LocalStore} holds at most by default; one more insert is `LIMIT_EXCEEDED`. */
export const storeEntriesMax = 1_048_576;

/** Characters of a key at most; a longer key is `BAD_REQUEST`. */
export const storeKeyCharactersMax = 1024;

/**
 * Encoded bytes of one value at most (`MESSAGE_TOO_LARGE` beyond). Larger than a message body
 * (64 KiB): a name entry with 1024 destinations of 255 characters is about 300 KiB.
 */
export const storeValueBytesMax = 4 * 1024 * 1024;
