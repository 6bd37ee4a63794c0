// The interface of the rpc-stub benchmark; `generated/bench-api.rpc.ts` is made from it by fos-rpcgen.

/** One echo method: what a stub call costs over a plain dispatcher call. */
export interface BenchApi {
  /** Answers the payload it was given. */
  echo(payload: Uint8Array): Promise<Uint8Array>;
}
