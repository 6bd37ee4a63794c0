// The processes of the rpc example: a key-value service that implements KvApi (./kv-api.ts) and a
// client that calls it through the stubs fos-rpcgen generated from that interface.
import { FosError, isFosError, type MessageBody } from '@fos/base';
import { rpcHandler } from '@fos/dispatcher';
import { withLibfos } from '@fos/libfos-messaging';
import type { Capability } from '@fos/microkernel';
import { createKvApiClient, kvApiOrdinals, serveKvApi } from './generated/kv-api.rpc.js';
import type { KvApi } from './kv-api.js';

/** The service's name. */
export const kvName = '/demo/kv';

// Reserve `/demo/*`: the echo example's one-shot process, spawned from this module by the same entry name.
export { reserveDemo } from '../echo/services.js';

/**
 * The key-value service: an implementation of KvApi over a Map (the process's state, in its entry's
 * scope), served on a mailbox registered as `/demo/kv`. `serveKvApi` checks each request's arguments
 * against the interface before `impl` sees them; `rpcHandler` makes it the mailbox's request handler.
 * Each request runs in a cooperative thread of the dispatcher, one at a time until it awaits: no locks.
 */
export const kvServer = withLibfos(async (libfos, args: { demo: Capability }) => {
  const table = new Map<string, string>();
  const impl: KvApi = {
    put: async (key, value) => {
      const previous = table.get(key) ?? null;
      table.set(key, value);
      return previous;
    },
    get: async (key) => {
      const value = table.get(key);
      if (value === undefined) throw new FosError('NO_SUCH_NAME', `nothing is stored under ${key}`);
      return value; // a FosError thrown here reaches the caller with its code
    },
    list: async () =>
      [...table.entries()].sort(([left], [right]) => left.localeCompare(right)).map(([key, value]) => ({ key, value })),
  };
  const mailbox = await libfos.createMailbox();
  libfos.serve(mailbox.location, { handler: rpcHandler(serveKvApi(impl)) });
  await libfos.aliasRegisterDirect(kvName, mailbox, args.demo);
  return { core: libfos.context.core };
});

/** What a call answered, or the code of the FosError it rejected with. */
async function outcome(call: Promise<MessageBody>): Promise<string> {
  try {
    return JSON.stringify(await call);
  } catch (error) {
    if (isFosError(error)) return `${error.code} (a FosError)`;
    throw error;
  }
}

/** The client: typed calls to KvApi by the service's name; answers a line per call. */
export const kvClient = withLibfos(async (libfos) => {
  // libfos's transport calls the service by its name: resolved through the name cache, a stale answer
  // refreshed and the call retried.
  const transport = libfos.rpcTransport(kvName);
  const kv = createKvApiClient(transport);
  const lines = [
    `put('colour', 'blue') → ${await outcome(kv.put('colour', 'blue'))}`,
    `put('colour', 'green') → ${await outcome(kv.put('colour', 'green'))}`,
    `put('size', 'large') → ${await outcome(kv.put('size', 'large'))}`,
    `get('colour') → ${await outcome(kv.get('colour'))}`,
    `list() → ${await outcome(kv.list())}`,
    `get('weight') → ${await outcome(kv.get('weight'))}`,
    // The stubs' types forbid a bad argument; a hand-made request shows the server checking anyway.
    `get(42), by hand → ${await outcome(transport.invoke(kvApiOrdinals.get, 'KvApi.get', { key: 42 }))}`,
  ];
  await libfos.close();
  libfos.context.exit();
  return { lines };
});
