// Model-based testing of a name service with fast-check commands: random sequences of reserve,
// register (direct, indirect, chained), unregister, lookup, registerTemporary and malformed requests,
// with random capabilities, run against a name service and against the model. Every answer must match
// the model, the kernel aliases must be the ones the model says, and every refused request must leave
// the table's hash unchanged.
import type { NameServiceApi } from '@fos/libfos-messaging';
import { isFosError, type FosErrorCode } from '@fos/base';
import { mintCapability, type MailboxLocation } from '@fos/microkernel';
import { SeededRandom } from '@fos/sim';
import fc from 'fast-check';
import { lookupTtlMs } from '../limits.js';
import { Model, modelLookup, modelRegister, modelReserve, modelUnregister, Refusal } from './model.js';

/** A name service under test, with what the checks need to see of it. */
export interface NameSpaceUnderTest {
  /** The service (a `NameServer`, or the RPC client of a running member). */
  readonly service: Pick<NameServiceApi, 'lookup' | 'register' | 'unregister' | 'reserve' | 'registerTemporary'>;
  /** The root namespace capability `start` returned. */
  readonly root: string;
  /** Mailboxes that direct names may map to (real ones when the kernel's aliases are real). */
  readonly locations: readonly MailboxLocation[];
  /** The table's hash. */
  tableHash(): Promise<string>;
  /** The kernel aliases of those mailboxes, as sorted `location name` pairs. */
  aliases(): Promise<string[]>;
}

/** The model side of a run: the model, the capabilities met so far, the trace, and the answers seen. */
export interface ModelRun {
  readonly model: Model;
  readonly caps: string[];
  readonly trace: string[];
  readonly seen: Map<string, number>;
}

/** The assertion function of the test framework (vitest's or jest's `expect`). */
export type ExpectFunction = (
  value: unknown,
  message?: string,
) => { toBe(expected: unknown): void; toEqual(expected: unknown): void };

const nameChoices = ['/a', '/b', '/c', '/d', '/a/b', '/a/c', '/a/d', '/b/a', '/b/c', '/c/c/c'];
const invalidNameChoices = ['/sys/name', 'bad', '/a/*', '/tmp/x', '/a/../b'];
const domainChoices = ['/a/*', '/b/*', '/a/b/*', '/c/c/*', '/*', '/tmp/*', '/tmp/q/*', '/a', 'nope/*'];

/** A name drawn when the command runs: mostly registered ones, sometimes fixed or invalid ones. */
type NamePick = { readonly registered: boolean; readonly index: number; readonly invalid: boolean };
const namePick: fc.Arbitrary<NamePick> = fc.record({
  registered: fc.boolean(),
  index: fc.nat(1000),
  invalid: fc.integer({ min: 0, max: 99 }).map((value) => value < 8),
});
/** A capability drawn when the command runs: the root most of all, else any capability met so far. */
const capPick = fc.oneof({ weight: 35, arbitrary: fc.constant(0) }, { weight: 65, arbitrary: fc.nat(1000) });

function pickName(run: ModelRun, pick: NamePick): string {
  if (pick.invalid) return invalidNameChoices[pick.index % invalidNameChoices.length] as string;
  const registered = [...run.model.names.keys()];
  if (pick.registered && registered.length > 0) return registered[pick.index % registered.length] as string;
  return nameChoices[pick.index % nameChoices.length] as string;
}

function pickCap(run: ModelRun, index: number): string {
  return run.caps[index % run.caps.length] as string;
}

async function outcome<T>(promise: Promise<T>): Promise<{ value: T } | { error: FosErrorCode }> {
  try {
    return { value: await promise };
  } catch (error) {
    if (isFosError(error)) return { error: error.code };
    throw error;
  }
}

function expectation<A>(plan: () => A): { error: FosErrorCode } | { apply: A } {
  try {
    return { apply: plan() };
  } catch (error) {
    if (error instanceof Refusal) return { error: error.code };
    throw error;
  }
}

/**
 * Runs one request on both sides and checks the answers: the code (or success) the model predicts,
 * the table unchanged after a refusal, the kernel aliases the model says.
 */
async function step<T>(
  run: ModelRun,
  real: NameSpaceUnderTest,
  expect: ExpectFunction,
  label: string,
  predicted: { error: FosErrorCode } | { ok: true },
  request: () => Promise<T>,
  onSuccess: (value: T) => void = () => undefined,
): Promise<void> {
  run.trace.push(label);
  const hashBefore = await real.tableHash();
  const actual = await outcome(request());
  const context = run.trace.join('\n');
  const operation = label.split(' ')[0] ?? '';
  run.seen.set(
    `${operation} ${'error' in actual ? actual.error : 'ok'}`,
    (run.seen.get(`${operation} ${'error' in actual ? actual.error : 'ok'}`) ?? 0) + 1,
  );
  expect('error' in actual ? actual.error : 'ok', context).toBe('error' in predicted ? predicted.error : 'ok');
  if ('error' in predicted)
    expect(await real.tableHash(), `${context}\n(the refused request changed the table)`).toBe(hashBefore);
  if ('value' in actual) onSuccess(actual.value);
  expect(await real.aliases(), `${context}\n(kernel aliases)`).toEqual(run.model.aliases());
}

type NameServiceCommand = fc.AsyncCommand<ModelRun, NameSpaceUnderTest>;

function command(
  describe: string,
  run: (model: ModelRun, real: NameSpaceUnderTest) => Promise<void>,
): NameServiceCommand {
  return { check: () => true, run, toString: () => describe };
}

/** `reserve` of a sub-domain with a capability picked from those seen. */
function reserveCommand(expect: ExpectFunction): fc.Arbitrary<NameServiceCommand> {
  return fc.record({ domain: fc.constantFrom(...domainChoices), cap: capPick }).map(({ domain, cap }) =>
    command(`reserve ${domain} cap#${cap}`, async (run, real) => {
      const capability = pickCap(run, cap);
      const plan = expectation(() => modelReserve(run.model, domain, capability));
      await step(
        run,
        real,
        expect,
        `reserve ${domain}`,
        'error' in plan ? plan : { ok: true },
        () => real.service.reserve({ domain, capability }),
        (value) => {
          if ('apply' in plan) plan.apply(value.capability);
          run.caps.push(value.capability);
        },
      );
    }),
  );
}

/** `register` of a direct or an indirect name, with or without `active`. */
function registerCommand(expect: ExpectFunction): fc.Arbitrary<NameServiceCommand> {
  return fc
    .record({
      name: namePick,
      cap: capPick,
      indirect: fc.boolean(),
      target: namePick,
      weight: fc.integer({ min: 1, max: 1000 }),
      location: fc.nat(1000),
      active: fc.constantFrom(undefined, undefined, undefined, false, true),
    })
    .map((spec) =>
      command(`register ${JSON.stringify(spec)}`, async (run, real) => {
        const name = pickName(run, spec.name);
        const capability = pickCap(run, spec.cap);
        const destination = spec.indirect
          ? { type: 'indirect' as const, name: pickName(run, spec.target), weight: spec.weight }
          : {
              type: 'direct' as const,
              location: real.locations[spec.location % real.locations.length] as MailboxLocation,
            };
        const plan = expectation(() =>
          modelRegister(run.model, { name, cap: capability, destination, active: spec.active }),
        );
        const request = {
          name,
          capability,
          destination,
          ...(spec.active === undefined ? {} : { active: spec.active }),
        };
        await step(
          run,
          real,
          expect,
          `register ${name} ${JSON.stringify(destination)}${spec.active === undefined ? '' : ` active=${spec.active}`}`,
          'error' in plan ? plan : { ok: true },
          () => real.service.register(request),
          (value) => {
            if ('apply' in plan) plan.apply(value.nameCapability);
            run.caps.push(value.nameCapability);
          },
        );
      }),
    );
}

/** `unregister` of a name, a sub-domain or one destination, or `deactivate`. */
function unregisterCommand(expect: ExpectFunction): fc.Arbitrary<NameServiceCommand> {
  return fc
    .record({
      name: namePick,
      domain: fc.option(fc.constantFrom(...domainChoices), { freq: 6 }),
      cap: capPick,
      destination: fc.option(namePick, { freq: 2 }),
      deactivate: fc.constantFrom(undefined, undefined, undefined, undefined, true),
    })
    .map((spec) =>
      command(`unregister ${JSON.stringify(spec)}`, async (run, real) => {
        const name = spec.domain ?? pickName(run, spec.name);
        const entry = run.model.names.get(name);
        // A destination of the name itself most of the time, when it has some.
        const destination =
          spec.destination === null
            ? undefined
            : entry?.type === 'indirect' && !spec.destination.invalid
              ? ([...entry.destinations.keys()][spec.destination.index % entry.destinations.size] as string)
              : pickName(run, spec.destination);
        const capability = pickCap(run, spec.cap);
        const plan = expectation(() =>
          modelUnregister(run.model, { name, cap: capability, destination, deactivate: spec.deactivate }),
        );
        const request = {
          name,
          capability,
          ...(destination === undefined ? {} : { destination }),
          ...(spec.deactivate === undefined ? {} : { deactivate: spec.deactivate }),
        };
        await step(
          run,
          real,
          expect,
          `unregister ${name} ${destination ?? ''}${spec.deactivate === true ? ' deactivate' : ''}`,
          'error' in plan ? plan : { ok: true },
          () => real.service.unregister(request),
          () => {
            if ('apply' in plan) plan.apply();
          },
        );
      }),
    );
}

/** `lookup` of a name or a sub-domain, checked against the model's possible answers. */
function lookupCommand(expect: ExpectFunction): fc.Arbitrary<NameServiceCommand> {
  return fc.record({ name: namePick, domain: fc.option(fc.constantFrom(...domainChoices), { freq: 10 }) }).map((spec) =>
    command(`lookup ${JSON.stringify(spec)}`, async (run, real) => {
      const name = spec.domain ?? pickName(run, spec.name);
      const predicted = modelLookup(run.model, name);
      await step(
        run,
        real,
        expect,
        `lookup ${name}`,
        'error' in predicted ? predicted : { ok: true },
        () => real.service.lookup(name),
        (value) => {
          const context = run.trace.join('\n');
          if ('direct' in predicted)
            expect(value, context).toEqual({
              type: 'direct',
              name,
              location: predicted.direct.location,
              publishedCapability: null,
              ttlMs: lookupTtlMs,
            });
          if ('possible' in predicted) {
            expect(value.type, context).toBe('indirect');
            expect(predicted.possible.has((value as { next: string }).next), context).toBe(true);
          }
        },
      );
    }),
  );
}

/** `registerTemporary` at a location of the fixture. */
function temporaryCommand(expect: ExpectFunction): fc.Arbitrary<NameServiceCommand> {
  return fc.nat(1000).map((location) =>
    command('registerTemporary', async (run, real) => {
      const at = real.locations[location % real.locations.length] as MailboxLocation;
      await step(
        run,
        real,
        expect,
        'registerTemporary',
        { ok: true },
        () => real.service.registerTemporary({ location: at }),
        (value) => {
          expect(/^\/tmp\/[a-z2-7]{16}$/.test(value.name), value.name).toBe(true);
          expect(run.model.names.has(value.name), value.name).toBe(false);
          run.model.names.set(value.name, {
            type: 'direct',
            cap: value.nameCapability,
            location: at,
            published: undefined,
            active: true,
          });
          run.caps.push(value.nameCapability);
        },
      );
    }),
  );
}

/** A malformed request of some kind, always `BAD_REQUEST`. */
function malformedCommand(expect: ExpectFunction): fc.Arbitrary<NameServiceCommand> {
  const malformedRequests: Array<(real: NameSpaceUnderTest, cap: string) => Promise<unknown>> = [
    (real, cap) => real.service.register({ name: '/a', capability: cap } as never),
    (real, cap) =>
      real.service.register({ name: '/a', capability: cap, destination: { type: 'indirect', name: '/b', weight: 0 } }),
    (real) => real.service.register(null as never),
    (real, cap) => real.service.unregister({ name: 5, capability: cap } as never),
    (real) => real.service.reserve({ domain: '/q/*' } as never),
    (real) => real.service.registerTemporary({ location: { machine: '', core: 0, mailbox: 1 } }),
  ];
  return fc.record({ which: fc.nat(malformedRequests.length - 1), cap: capPick }).map(({ which, cap }) =>
    command(`malformed #${which}`, async (run, real) => {
      const send = malformedRequests[which] as (typeof malformedRequests)[number];
      await step(run, real, expect, `malformed #${which}`, { error: 'BAD_REQUEST' }, () =>
        send(real, pickCap(run, cap)),
      );
    }),
  );
}

/**
 * The fast-check commands of the model-based test, for a name service reached through `real` and
 * checked with `expect`. Use with `fc.asyncModelRun`.
 */
export function nameServiceCommands(expect: ExpectFunction): Array<fc.Arbitrary<NameServiceCommand>> {
  const reserve = reserveCommand(expect);
  const register = registerCommand(expect);
  const unregister = unregisterCommand(expect);
  const lookup = lookupCommand(expect);
  const temporary = temporaryCommand(expect);
  const malformed = malformedCommand(expect);
  return [
    reserve,
    reserve,
    register,
    register,
    register,
    register,
    register,
    unregister,
    unregister,
    lookup,
    lookup,
    lookup,
    temporary,
    malformed,
  ];
}

/** The model side of a fresh run against a service started with `root`. */
export function newModelRun(root: string, seen: Map<string, number> = new Map()): ModelRun {
  // The capabilities a run starts with: the root, a well-formed stranger, and a malformed one.
  return {
    model: new Model(root),
    caps: [root, mintCapability(new SeededRandom(7)), 'malformed-capability'],
    trace: [],
    seen,
  };
}

/** Answers a model-based run should reach over many runs (not each one). */
export const expectedAnswers = [
  'reserve ok',
  'reserve NAME_EXISTS',
  'reserve PERMISSION_DENIED',
  'reserve INVALID_NAME',
  'register ok',
  'register NAME_EXISTS',
  'register PERMISSION_DENIED',
  'register INVALID_NAME',
  'register CYCLE',
  'register NO_SUCH_NAME',
  'unregister ok',
  'unregister NO_SUCH_NAME',
  'unregister PERMISSION_DENIED',
  'unregister INVALID_NAME',
  'unregister BAD_REQUEST',
  'lookup ok',
  'lookup NO_SUCH_NAME',
  'lookup INACTIVE',
  'lookup INVALID_NAME',
  'registerTemporary ok',
  'malformed BAD_REQUEST',
] as const;
