// The processes of the fleet example, spawned from this module by entry name (see ../echo/services.ts
// for the basics: libfos, entries, state in the entry's scope).
import { withLibfos } from '@fos/libfos-messaging';
import type { Capability } from '@fos/microkernel';

/** The fleet's one name: an indirect name that leads to one member per Lookup. */
export const fleetName = '/demo/echo';

// Reserve `/demo/*`: the echo example's one-shot process, spawned from this module by the same entry name.
export { reserveDemo } from '../echo/services.js';

/**
 * A member of the fleet: serves a mailbox registered under its own name (`/demo/echo/1`, a direct
 * name), then adds that name to the fleet's indirect name `/demo/echo` with a weight: a Lookup of
 * `/demo/echo` picks a member with a chance in proportion to its weight. Replies name the member.
 */
export const echoMember = withLibfos(async (libfos, args: { name: string; weight: number; demo: Capability }) => {
  const mailbox = await libfos.createMailbox();
  libfos.serve(mailbox.location, { handler: (request) => ({ member: args.name, echo: request.body }) });
  await libfos.aliasRegisterDirect(args.name, mailbox, args.demo);
  await libfos.aliasRegisterIndirect(fleetName, args.name, args.demo, { weight: args.weight });
  return { core: libfos.context.core };
});

/**
 * The client: calls the fleet by its name in `rounds` rounds of `calls` calls. Its libfos looks the
 * name up (the name service picks a member) and keeps the answer in its name cache for the Lookup's
 * TTL, so a round's calls go to one member; the pause after each round outlasts the TTL, so the next
 * round looks the name up again and may get another member. Answers how many calls each member took.
 */
export const fleetClient = withLibfos(async (libfos, args: { rounds: number; calls: number; pauseMs: number }) => {
  const answered: Record<string, number> = {};
  for (let round = 0; round < args.rounds; round++) {
    for (let call = 0; call < args.calls; call++) {
      const { body } = await libfos.call(fleetName, { round, call });
      const { member } = body as { member: string };
      answered[member] = (answered[member] ?? 0) + 1;
    }
    await libfos.run((thread) => thread.sleep(args.pauseMs)); // a dispatcher sleep, on the process's clock
  }
  const lookups = libfos.stats().lookups; // how often the name cache missed and asked the name service
  await libfos.close();
  libfos.context.exit();
  return { answered, lookups };
});
