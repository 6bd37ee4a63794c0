// The service under test in the testing example: a counter, registered as /app/counter. Each request
// `{ add: n }` adds n to the total and is answered `{ total }`; anything else is refused with
// BAD_REQUEST. The test (./counter.test.ts) spawns it from the build, `dist/testing/counter.js`.
import { FosError } from '@fos/base';
import { withLibfos } from '@fos/libfos-messaging';
import type { Capability } from '@fos/microkernel';
import { z } from 'zod';

/** The counter's name. */
export const counterName = '/app/counter';

/** A request, checked before it is trusted: it came from another process. */
const addSchema = z.object({ add: z.number().int() });

/** The counter process: registers `/app/counter` with `args.capability` and serves it. */
export const counterService = withLibfos(async (libfos, args: { capability: Capability }) => {
  let total = 0; // the process's state, in its entry's scope
  const mailbox = await libfos.createMailbox();
  libfos.serve(mailbox.location, {
    handler: ({ body }) => {
      const request = addSchema.safeParse(body);
      if (!request.success) throw new FosError('BAD_REQUEST', 'a counter request is { add: <integer> }');
      total += request.data.add;
      return { total };
    },
  });
  await libfos.aliasRegisterDirect(counterName, mailbox, args.capability);
  return { name: counterName };
});
