// The interface of the rpc example's key-value service, the "header file" of thesis §2.3. fos-rpcgen
// reads it and writes generated/kv-api.rpc.ts: a typed client, a server that checks every argument
// (zod) before the implementation sees it, and a local linkage. After changing this file, run
// `pnpm --filter @fos/examples generate` and commit the result (`check-generated` compares them).

/**
 * One entry of the store. A type alias rather than an interface: an alias of an object type fits
 * `MessageBody`, so an entry can also travel in a plain message or a process's result.
 */
export type Entry = {
  key: string;
  value: string;
};

/** A small key-value store, served by one process. */
export interface KvApi {
  /** Stores `value` under `key`; answers the value it replaced, or null. */
  put(key: string, value: string): Promise<string | null>;
  /** The value under `key`. @throws NO_SUCH_NAME when nothing is stored under `key` */
  get(key: string): Promise<string>;
  /** Every entry, sorted by key. */
  list(): Promise<Entry[]>;
}
