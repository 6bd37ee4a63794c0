// Model-based test (fast-check commands): random sequences of reserve, register (direct, indirect,
// chained), unregister, lookup, registerTemporary and malformed requests, with random capabilities,
// run against NameServer over a LocalStore (with a fake kernel alias table) and against the plain
// in-memory model of @fos/name-service/testing. Every answer must match the model, the alias table
// must hold exactly the names the model says, and every refused request must leave the table unchanged.
import { formatLocation, type MailboxLocation } from '@fos/microkernel';
import { tierCount } from '@fos/sim';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { startFixture } from './internal/test-fixture.js';
import {
  expectedAnswers,
  nameServiceCommands,
  newModelRun,
  type ExpectFunction,
  type NameSpaceUnderTest,
} from './testing.js';

const locations: MailboxLocation[] = [0, 1].flatMap((core) =>
  [1, 2, 3, 4].map((mailbox) => ({ machine: 'm', core, mailbox })),
);
const runs = Number(process.env.MODEL_RUNS ?? tierCount({ fast: 200, long: 2_000 }));

describe('NameServer against a model of the name space', () => {
  it(
    `agrees on ${runs} random command sequences of up to 40 requests`,
    async () => {
      const seen = new Map<string, number>();
      let steps = 0;
      const commands = fc.commands(nameServiceCommands(expect as unknown as ExpectFunction), {
        maxCommands: 40,
        size: 'max',
      });
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 1_000_000 }), commands, async (seed, sequence) => {
          const fixture = await startFixture({ seed });
          const real: NameSpaceUnderTest = {
            service: fixture.server,
            root: fixture.root,
            locations,
            tableHash: () => fixture.server.tableHash(),
            aliases: async () => fixture.aliases.sorted(),
          };
          const run = newModelRun(fixture.root, seen);
          await fc.asyncModelRun(() => ({ model: run, real }), sequence);
          steps += run.trace.length;
        }),
        { numRuns: runs, seed: Number(process.env.MODEL_SEED ?? 20261126) },
      );
      expect(steps).toBeGreaterThan(runs * 10);
      // The sequences reach every answer that matters, not just the easy ones.
      if (runs >= 200)
        for (const label of expectedAnswers)
          expect(seen.get(label) ?? 0, `${label} in ${JSON.stringify([...seen])}`).toBeGreaterThan(0);
      expect(locations.map(formatLocation)).toHaveLength(8);
    },
    tierCount({ fast: 30_000, long: 300_000 }),
  );
});
