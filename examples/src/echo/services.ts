// The processes of the echo example. Each one is an exported entry function of this module:
// `boot().spawn({ module, entry })` starts a process from it on a core (on worker threads a module and
// an entry is the only way; the module is loaded from the build, `dist/echo/services.js`). A process
// keeps its state in its entry's scope, never at module level: that would be shared by every process
// of a thread. `withLibfos` hands each entry its own libfos (messaging by name, a name cache).
import { withLibfos } from '@fos/libfos-messaging';
import { formatLocation, isCapability, type Capability } from '@fos/microkernel';
import { z } from 'zod';

/** The name the echo service is registered under: the client knows only this. */
export const echoName = '/demo/echo';

// A process's args come from whoever spawned it: each entry says what they must be, and withLibfos
// checks them before the entry runs (BAD_REQUEST otherwise: the process ends and its spawn fails).
const capability = z.custom<Capability>(isCapability, 'not a capability');

/**
 * Reserve: claims the sub-domain `/demo/*` with the root capability of the name space (`/*`) and
 * answers the new capability of `/demo/*`, which lets its holder register names under `/demo` and
 * nowhere else. A one-shot process: it exits once it has answered.
 */
export const reserveDemo = withLibfos(
  async (libfos, args) => {
    const demo = await libfos.reserveNamespace('/demo/*', args.root);
    libfos.context.exit();
    return { demo };
  },
  { args: z.object({ root: capability }) },
);

/**
 * The echo service: a mailbox whose requests libfos's dispatcher hands to `handler` (what it returns
 * is the reply), registered as `/demo/echo` with the capability of `/demo/*`. The process lives on,
 * serving, after its entry returns.
 */
export const echoServer = withLibfos(
  async (libfos, args) => {
    const mailbox = await libfos.createMailbox();
    libfos.serve(mailbox.location, { handler: (request) => ({ echo: request.body }) });
    await libfos.aliasRegisterDirect(echoName, mailbox, args.demo);
    return { core: libfos.context.core };
  },
  { args: z.object({ demo: capability }) },
);

/**
 * The client: finds the service by its name only. `aliasResolve` shows where the name leads (a
 * Lookup, kept in the name cache); `call` sends a request to the name and waits for the reply.
 */
export const echoClient = withLibfos(
  async (libfos, args) => {
    const resolved = await libfos.aliasResolve(echoName);
    const { body } = await libfos.call(echoName, args.text);
    await libfos.close(); // unregisters the client's own reply name before it exits
    libfos.context.exit();
    return { core: libfos.context.core, mailbox: formatLocation(resolved.location), reply: body };
  },
  { args: z.object({ text: z.string().max(1024) }) },
);
