// Any JavaScript value through every public call of @fos/microkernel: the system calls of a process
// (on LocalFabric, and on SimFabric with a seed), the constructors of a machine and of the fabrics,
// spawn, and the exported helpers. A call answers success or a FosError whose code the call may
// answer and the README's `## Errors` section documents; a refused call changes nothing (every
// mailbox and its names are as they were, no process or mailbox appeared, a refused machine drew
// nothing from the fabric's randomness); and the calling process still creates a mailbox, sends and
// receives afterwards. Well-formed arguments with one hostile value swapped in reach the checks
// past the first one (the owner's checks on another core among them).
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeValue, isFosError, type FosErrorCode } from '@fos/base';
import { documentedErrorCodes, hostileValues } from '@fos/base/testing';
import { tierCount } from '@fos/sim';
import { hashCapability, isCapability, validateCapability, type Capability } from './capability.js';
import { namedMailbox, processOn, testMachine, type TestFabricKind } from './internal/testing.js';
import { LocalFabric } from './local-fabric.js';
import { formatLocation, mailboxLocationSchema, sameLocation, type MailboxLocation } from './location.js';
import { Machine } from './machine.js';
import type { Channel, ProcessContext, SystemCalls } from './process.js';
import { SimFabric } from './sim-fabric.js';
import { WorkerFabric } from './worker-fabric.js';

const documented = documentedErrorCodes(readFileSync(new URL('../README.md', import.meta.url), 'utf8'));
const anyValue = fc.oneof(fc.anything(), fc.constantFrom(...hostileValues()));
/** Every code a call answered, over the whole file: each must be in the README's table. */
const met = new Set<FosErrorCode>();
let callCount = 0;
/** A refusal's message names values through describeValue: it stays short whatever was passed. */
const messageCharactersMax = 1_000;

/** The outcome of one call: `accepted` with its value, or the FosError code it was refused with. */
type Outcome =
  | { readonly accepted: true; readonly value: unknown }
  | { readonly accepted: false; readonly code: string; readonly sequence?: number | undefined };

function refusal(name: string, args: readonly unknown[], codes: readonly FosErrorCode[], error: unknown): Outcome {
  const shown = args.map((arg) => describeValue(arg)).join(', ');
  if (!isFosError(error)) throw new Error(`${name}(${shown}) threw a non-FosError: ${describeValue(error)}`);
  if (!codes.includes(error.code)) throw new Error(`${name}(${shown}) answered ${error.code}: ${error.message}`);
  if (error.message.length > messageCharactersMax)
    throw new Error(`${name}(${shown}) answered a message of ${error.message.length} characters`);
  met.add(error.code);
  return { accepted: false, code: error.code, sequence: error.details.sequence };
}

/** Runs a call that answers at once; a refusal must be a FosError of `codes`. */
function outcomeOf(
  name: string,
  args: readonly unknown[],
  codes: readonly FosErrorCode[],
  call: () => unknown,
): Outcome {
  callCount++;
  try {
    return { accepted: true, value: call() };
  } catch (error) {
    return refusal(name, args, codes, error);
  }
}

/** Runs a call that answers with a Promise: it must never throw at once, only reject. */
async function asyncOutcomeOf(
  name: string,
  args: readonly unknown[],
  codes: readonly FosErrorCode[],
  call: () => unknown,
): Promise<Outcome> {
  callCount++;
  let answer: unknown;
  try {
    answer = call();
  } catch (error) {
    throw new Error(`${name}(${args.map((arg) => describeValue(arg)).join(', ')}) threw instead of rejecting`, {
      cause: error,
    });
  }
  expect(answer).toBeInstanceOf(Promise);
  try {
    return { accepted: true, value: await answer };
  } catch (error) {
    return refusal(name, args, codes, error);
  }
}

// ---- the system calls of a process ----------------------------------------------------------------

/** Kinds of argument, each with its pool of well-formed values (right and wrong ones). */
type ArgumentKind =
  'location' | 'capability' | 'name' | 'body' | 'sendOptions' | 'mailboxOptions' | 'callback' | 'sequence';

/** The mailboxes of the world: the caller's (`own`, `live`), a neighbour's on its core, a remote one. */
interface World {
  readonly machine: Machine;
  readonly caller: ProcessContext;
  readonly neighbour: ProcessContext;
  readonly remote: ProcessContext;
  readonly own: { location: MailboxLocation; capability: Capability };
  readonly live: { location: MailboxLocation; capability: Capability };
  readonly near: { location: MailboxLocation; capability: Capability };
  readonly far: { location: MailboxLocation; capability: Capability };
  /** A channel from the caller to `far`. */
  readonly channel: Channel;
  readonly pools: Record<ArgumentKind, readonly unknown[]>;
  /** Each base mailbox with its owner and its names. */
  readonly mailboxes: ReadonlyArray<{ owner: SystemCalls; location: MailboxLocation; names: string[] }>;
}

/** A capability text that decodes to the same bytes as `capability` but is not canonical. */
function twinOf(capability: Capability): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(capability.slice(-1));
  return `${capability.slice(0, -1)}${alphabet[last | 5]}`;
}

async function createWorld(kind: TestFabricKind, seed: number): Promise<World> {
  const { machine } = testMachine(kind, { cores: 3, seed });
  const caller = await processOn(machine, 1, 'caller');
  const neighbour = await processOn(machine, 1, 'neighbour');
  const remote = await processOn(machine, 2, 'remote');
  const own = await namedMailbox(caller.kernel, '/hostile/own');
  const live = await namedMailbox(caller.kernel, '/hostile/live');
  const near = await namedMailbox(neighbour.kernel, '/hostile/near');
  const far = await namedMailbox(remote.kernel, '/hostile/far');
  const channel = await caller.kernel.createChannel('/hostile/far', far.location, far.capability);
  const locations = [own, near, far].map((mailbox) => mailbox.location);
  const pools: Record<ArgumentKind, readonly unknown[]> = {
    location: [
      ...locations,
      { machine: 'm0', core: 1, mailbox: 999 },
      { machine: 'm0', core: 2, mailbox: 999 },
      { machine: 'm0', core: 7, mailbox: 1 },
      { machine: 'elsewhere', core: 1, mailbox: 1 },
    ],
    capability: [
      own.capability,
      near.capability,
      far.capability,
      twinOf(far.capability),
      machine.kernelCapability,
      twinOf(machine.kernelCapability),
    ],
    name: ['/hostile/own', '/hostile/near', '/hostile/far', '/hostile/new', '/sys/name'],
    body: ['x', { n: 1 }, null],
    sendOptions: [undefined, {}, { resendOf: 0 }],
    mailboxOptions: [undefined, { queueMessagesMax: 4 }],
    callback: [null, () => undefined],
    sequence: [0, 1],
  };
  const mailboxes = [
    { owner: caller.kernel, location: own.location, names: ['/hostile/own'] },
    { owner: caller.kernel, location: live.location, names: ['/hostile/live'] },
    { owner: neighbour.kernel, location: near.location, names: ['/hostile/near'] },
    { owner: remote.kernel, location: far.location, names: ['/hostile/far'] },
  ];
  return { machine, caller, neighbour, remote, own, live, near, far, channel, pools, mailboxes };
}

const ownerCodes: readonly FosErrorCode[] = ['BAD_REQUEST', 'UNREACHABLE', 'PERMISSION_DENIED'];
const sendCodes: readonly FosErrorCode[] = [
  ...ownerCodes,
  'INVALID_NAME',
  'NO_SUCH_NAME',
  'MESSAGE_TOO_LARGE',
  'WOULD_BLOCK',
  'LIMIT_EXCEEDED',
];

/** The system calls, each with the kinds of its arguments and the codes it may answer. */
const systemCalls: ReadonlyArray<{
  readonly name: string;
  readonly kinds: readonly ArgumentKind[];
  readonly codes: readonly FosErrorCode[];
  readonly sync?: true;
  /** Well-formed arguments alone may do what cannot be undone here (destroy, move, wait for ever). */
  readonly destructive?: true;
  readonly call: (world: World, args: readonly unknown[]) => unknown;
}> = [
  {
    name: 'createMailbox',
    kinds: ['mailboxOptions'],
    codes: ['BAD_REQUEST', 'LIMIT_EXCEEDED'],
    call: (w, [o]) => w.caller.kernel.createMailbox(o as never),
  },
  {
    name: 'destroyMailbox',
    destructive: true,
    kinds: ['location'],
    codes: ownerCodes,
    call: (w, [l]) => w.caller.kernel.destroyMailbox(l as never),
  },
  {
    name: 'moveMailbox',
    destructive: true,
    kinds: ['location', 'location', 'capability'],
    codes: [...ownerCodes, 'LIMIT_EXCEEDED'],
    call: (w, [l, s, c]) => w.caller.kernel.moveMailbox(l as never, s as never, c as never),
  },
  {
    name: 'addCapability',
    kinds: ['location'],
    codes: [...ownerCodes, 'LIMIT_EXCEEDED'],
    call: (w, [l]) => w.caller.kernel.addCapability(l as never),
  },
  {
    name: 'removeCapability',
    destructive: true,
    kinds: ['location', 'capability'],
    codes: ownerCodes,
    call: (w, [l, c]) => w.caller.kernel.removeCapability(l as never, c as never),
  },
  {
    name: 'addName',
    kinds: ['location', 'name'],
    codes: [...ownerCodes, 'INVALID_NAME', 'LIMIT_EXCEEDED'],
    call: (w, [l, n]) => w.caller.kernel.addName(l as never, n as never),
  },
  {
    name: 'removeName',
    destructive: true,
    kinds: ['location', 'name'],
    codes: [...ownerCodes, 'INVALID_NAME', 'NO_SUCH_NAME'],
    call: (w, [l, n]) => w.caller.kernel.removeName(l as never, n as never),
  },
  {
    name: 'mailboxNames',
    kinds: ['location'],
    codes: ownerCodes,
    call: (w, [l]) => w.caller.kernel.mailboxNames(l as never),
  },
  {
    name: 'receive',
    destructive: true,
    kinds: ['location'],
    codes: [...ownerCodes, 'LIMIT_EXCEEDED'],
    call: (w, [l]) => w.caller.kernel.receive(l as never),
  },
  {
    name: 'tryReceive',
    kinds: ['location'],
    codes: ownerCodes,
    sync: true,
    call: (w, [l]) => w.caller.kernel.tryReceive(l as never),
  },
  {
    name: 'pendingMessages',
    kinds: ['location'],
    codes: ownerCodes,
    sync: true,
    call: (w, [l]) => w.caller.kernel.pendingMessages(l as never),
  },
  {
    name: 'onReadable',
    kinds: ['location', 'callback'],
    codes: ownerCodes,
    sync: true,
    call: (w, [l, c]) => w.caller.kernel.onReadable(l as never, c as never),
  },
  {
    name: 'ukSend',
    kinds: ['name', 'location', 'capability', 'body', 'sendOptions'],
    codes: sendCodes,
    call: (w, [n, l, c, b, o]) => w.caller.kernel.ukSend(n as never, l as never, c as never, b as never, o as never),
  },
  {
    name: 'abandonSend',
    kinds: ['location', 'sequence'],
    codes: ['BAD_REQUEST', 'UNREACHABLE'],
    sync: true,
    call: (w, [l, s]) => w.caller.kernel.abandonSend(l as never, s as never),
  },
  {
    name: 'ukUncheckedSend',
    kinds: ['capability', 'location', 'body'],
    codes: sendCodes,
    call: (w, [k, l, b]) => w.caller.kernel.ukUncheckedSend(k as never, l as never, b as never),
  },
  {
    name: 'ukAddAlias',
    kinds: ['capability', 'location', 'name'],
    codes: [...ownerCodes, 'INVALID_NAME', 'LIMIT_EXCEEDED'],
    call: (w, [k, l, n]) => w.caller.kernel.ukAddAlias(k as never, l as never, n as never),
  },
  {
    name: 'ukRemoveAlias',
    destructive: true,
    kinds: ['capability', 'location', 'name'],
    codes: [...ownerCodes, 'INVALID_NAME', 'NO_SUCH_NAME'],
    call: (w, [k, l, n]) => w.caller.kernel.ukRemoveAlias(k as never, l as never, n as never),
  },
  {
    name: 'ukNameServiceRegister',
    destructive: true,
    kinds: ['location', 'capability', 'capability'],
    codes: [...ownerCodes, 'LIMIT_EXCEEDED'],
    call: (w, [l, k, c]) => w.caller.kernel.ukNameServiceRegister(l as never, k as never, c as never),
  },
  {
    name: 'ukNameServiceUnregister',
    destructive: true,
    kinds: ['location', 'capability'],
    codes: [...ownerCodes, 'NO_SUCH_NAME'],
    call: (w, [l, k]) => w.caller.kernel.ukNameServiceUnregister(l as never, k as never),
  },
  {
    name: 'ukNameServiceLookup',
    kinds: [],
    codes: ['NO_SUCH_NAME'],
    call: (w) => w.caller.kernel.ukNameServiceLookup(),
  },
  {
    name: 'createChannel',
    kinds: ['name', 'location', 'capability'],
    codes: [...sendCodes, 'NAME_EXISTS'],
    call: (w, [n, l, c]) => w.caller.kernel.createChannel(n as never, l as never, c as never),
  },
  {
    name: 'channel.send',
    kinds: ['body'],
    codes: ['BAD_REQUEST', 'MESSAGE_TOO_LARGE', 'WOULD_BLOCK'],
    call: (w, [b]) => w.channel.send(b as never),
  },
];

/** Every mailbox of the world is there with its names, and no other mailbox appeared. */
async function expectWorldUnchanged(world: World, what: string): Promise<void> {
  expect(world.machine.stats().mailboxes, what).toBe(world.mailboxes.length);
  for (const { owner, location, names } of world.mailboxes) {
    expect(await owner.mailboxNames(location), what).toEqual(names);
  }
}

/** The caller still creates a mailbox, sends and receives. */
async function expectCallerWorks(world: World): Promise<void> {
  const { kernel } = world.caller;
  const created = await kernel.createMailbox();
  await kernel.destroyMailbox(created.location);
  await kernel.ukSend('/hostile/live', world.live.location, world.live.capability, 'alive');
  expect((await kernel.receive(world.live.location)).body).toBe('alive');
}

/** Undoes what an accepted call did: extra mailboxes, names and capabilities, queued messages, callbacks. */
async function restoreWorld(world: World, name: string, args: readonly unknown[], value: unknown): Promise<void> {
  const { kernel } = world.caller;
  if (name === 'addCapability') await kernel.removeCapability(args[0] as MailboxLocation, value as Capability);
  if (name === 'createMailbox') await kernel.destroyMailbox((value as { location: MailboxLocation }).location);
  if (name === 'createChannel') (value as Channel).close();
  kernel.onReadable(world.own.location, null);
  kernel.onReadable(world.live.location, null);
  for (const { owner, location, names } of world.mailboxes) {
    for (const extra of (await owner.mailboxNames(location)).filter((each) => !names.includes(each)))
      await owner.removeName(location, extra);
    while (owner.tryReceive(location) !== undefined);
  }
}

/** One call: its index, which argument is hostile, the hostile values, the picks from the pools. */
const systemCallArbitrary = fc.record({
  call: fc.nat({ max: systemCalls.length - 1 }),
  hostileAt: fc.nat({ max: 4 }),
  /** One argument hostile (the others well-formed), all of them, or none (only for calls that can be undone). */
  mode: fc.constantFrom('one', 'one', 'one', 'all', 'none'),
  hostiles: fc.array(anyValue, { minLength: 5, maxLength: 5 }),
  picks: fc.array(fc.nat({ max: 100 }), { minLength: 5, maxLength: 5 }),
});

type SystemCallDraw = typeof systemCallArbitrary extends fc.Arbitrary<infer Draw> ? Draw : never;

async function hostileSystemCall(world: World, draw: SystemCallDraw): Promise<void> {
  const { name, kinds, codes, sync, destructive, call } = systemCalls[draw.call] as (typeof systemCalls)[number];
  const mode = destructive && draw.mode === 'none' ? 'one' : draw.mode;
  const args = kinds.map((kind, index) => {
    const pool = world.pools[kind];
    const hostile = mode === 'all' || (mode === 'one' && index === draw.hostileAt % kinds.length);
    return hostile ? draw.hostiles[index] : pool[(draw.picks[index] as number) % pool.length];
  });
  const outcome = sync
    ? outcomeOf(name, args, codes, () => call(world, args))
    : await asyncOutcomeOf(name, args, codes, () => call(world, args));
  if (outcome.accepted) {
    await restoreWorld(world, name, args, outcome.value);
    return;
  }
  await expectWorldUnchanged(world, `after ${name} refused with ${outcome.code}`);
  // A send the owner's kernel refused leaves its gap in the stream, by design: give it up.
  if (outcome.sequence !== undefined) world.caller.kernel.abandonSend(args[1] as MailboxLocation, outcome.sequence);
  await expectCallerWorks(world);
}

const systemCallRuns = tierCount({ fast: 4_000, long: 40_000 });

describe.each([
  ['local', 0],
  ['sim', 13],
] as const)('any value through the system calls on %s fabric (seed %d)', (kind, seed) => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld(kind, seed);
  });
  afterAll(() => world.machine.shutdown());

  it(`answers a documented FosError and changes nothing when it refuses (${systemCallRuns} calls)`, async () => {
    await fc.assert(
      fc.asyncProperty(systemCallArbitrary, (draw) => hostileSystemCall(world, draw)),
      { numRuns: systemCallRuns, seed },
    );
    // Checks past the first were reached: refusals by the owner's kernel and for ownership.
    expect([...met]).toEqual(
      expect.arrayContaining(['PERMISSION_DENIED', 'NO_SUCH_NAME', 'UNREACHABLE', 'INVALID_NAME']),
    );
    expect(world.machine.stats().processes).toBe(3);
  }, 180_000);
});

// ---- machines, fabrics, spawn and the exported helpers ---------------------------------------------

/** A record of well-formed fields with one swapped for a hostile value, or a hostile value outright. */
function optionsWithOneHostile(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const keys = Object.keys(fields);
  return fc.oneof(
    anyValue,
    fc.tuple(fc.record(fields), fc.constantFrom(...keys), anyValue).map(([record, key, hostile]) => {
      const options = { ...record, [key]: hostile };
      wellFormed.add(options);
      return options;
    }),
  );
}

/** Options `optionsWithOneHostile` built from its record (not a hostile value outright, which may throw when read). */
function isWellFormed(options: unknown): options is Record<string, unknown> {
  return wellFormed.has(options as object);
}
const wellFormed = new WeakSet<object>();

const constructorRuns = tierCount({ fast: 600, long: 6_000 });

describe('any value through the constructors and helpers', () => {
  it(`new LocalFabric, new SimFabric, new WorkerFabric and connect answer documented codes (${constructorRuns} each)`, async () => {
    const fabricCodes: FosErrorCode[] = ['BAD_REQUEST', 'LIMIT_EXCEEDED'];
    const made: Array<{ close(): Promise<void> }> = [];
    const coresArbitrary = fc.integer({ min: 1, max: 4 });
    fc.assert(
      fc.property(
        optionsWithOneHostile({ cores: coresArbitrary, clock: fc.constant(undefined), random: fc.constant(undefined) }),
        optionsWithOneHostile({ cores: coresArbitrary, seed: fc.integer(), stepsMax: fc.constant(100) }),
        optionsWithOneHostile({ cores: coresArbitrary, spinMicros: fc.integer({ min: 0, max: 100 }) }),
        anyValue,
        anyValue,
        (local, sim, worker, core, receive) => {
          for (const [name, make] of [
            ['new LocalFabric', () => new LocalFabric(local as never)],
            ['new SimFabric', () => new SimFabric(sim as never)],
            ['new WorkerFabric', () => new WorkerFabric(worker as never)],
          ] as const) {
            const outcome = outcomeOf(
              name,
              [name === 'new LocalFabric' ? local : name === 'new SimFabric' ? sim : worker],
              fabricCodes,
              make,
            );
            if (outcome.accepted) made.push(outcome.value as { close(): Promise<void> });
          }
          for (const fabric of [new LocalFabric({ cores: 2 }), new SimFabric({ cores: 2, seed: 1 })]) {
            outcomeOf(`${fabric.kind}.connect`, [core, receive], ['BAD_REQUEST'], () =>
              fabric.connect(core as never, receive as never),
            );
            made.push(fabric);
          }
        },
      ),
      { numRuns: constructorRuns },
    );
    await Promise.all(made.map((fabric) => fabric.close()));
  }, 180_000);

  it(`new Machine answers documented codes and a refused one draws nothing from the fabric (${constructorRuns} calls)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        optionsWithOneHostile({
          fabric: fc.constant('sim'),
          machine: fc.constantFrom(undefined, 'm1'),
          limits: fc.constantFrom(undefined, {}, { queueMessagesMax: 8 }),
          log: fc.constant(() => undefined),
        }),
        async (options) => {
          const fabric = new SimFabric({ cores: 2, seed: 5 });
          const withFabric = isWellFormed(options) && options.fabric === 'sim' ? { ...options, fabric } : options;
          const outcome = outcomeOf(
            'new Machine',
            [withFabric],
            ['BAD_REQUEST', 'LIMIT_EXCEEDED'],
            () => new Machine(withFabric as never),
          );
          if (outcome.accepted) {
            await (outcome.value as Machine).shutdown();
            return;
          }
          expect(fabric.random.nextUint32()).toBe(new SimFabric({ cores: 2, seed: 5 }).random.nextUint32());
        },
      ),
      { numRuns: constructorRuns },
    );
    // One fabric serves one machine: a second one on it is refused, and the first goes on.
    const fabric = new LocalFabric({ cores: 1 });
    const first = new Machine({ fabric });
    expect(outcomeOf('new Machine', [fabric], ['BAD_REQUEST'], () => new Machine({ fabric }))).toEqual({
      accepted: false,
      code: 'BAD_REQUEST',
    });
    const process = await processOn(first, 0);
    const mailbox = await namedMailbox(process.kernel, '/one/machine');
    await process.kernel.ukSend('/one/machine', mailbox.location, mailbox.capability, 'still one');
    expect((await process.kernel.receive(mailbox.location)).body).toBe('still one');
    await first.shutdown();
  }, 180_000);

  it(`spawn answers documented codes and a refused spawn starts no process (${constructorRuns} calls)`, async () => {
    const { machine } = testMachine('local', { cores: 2 });
    try {
      await fc.assert(
        fc.asyncProperty(
          optionsWithOneHostile({
            core: fc.constantFrom(0, 1),
            function: fc.constant(() => 'started'),
            args: fc.constantFrom(undefined, { n: 1 }),
            name: fc.constantFrom(undefined, 'hostile'),
          }),
          async (options) => {
            const before = machine.stats().processes;
            const outcome = await asyncOutcomeOf(
              'spawn',
              [options],
              ['BAD_REQUEST', 'MESSAGE_TOO_LARGE', 'UNREACHABLE'],
              () => machine.spawn(options as never),
            );
            if (outcome.accepted) (outcome.value as { kill(): void }).kill();
            else expect(machine.stats().processes).toBe(before);
          },
        ),
        { numRuns: constructorRuns },
      );
    } finally {
      await machine.shutdown();
    }
  }, 180_000);

  it('the exported helpers answer documented codes, and the checks that answer a boolean never throw (1,000 values each)', () => {
    fc.assert(
      fc.property(anyValue, anyValue, (first, second) => {
        outcomeOf('validateCapability', [first], ['PERMISSION_DENIED'], () => validateCapability(first));
        outcomeOf('hashCapability', [first], ['PERMISSION_DENIED'], () => hashCapability(first as never));
        outcomeOf('formatLocation', [first], ['BAD_REQUEST'], () => formatLocation(first as never));
        outcomeOf('sameLocation', [first, second], ['BAD_REQUEST'], () =>
          sameLocation(first as never, second as never),
        );
        callCount += 2;
        expect(typeof isCapability(first)).toBe('boolean');
        expect(typeof mailboxLocationSchema.safeParse(first).success).toBe('boolean');
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('the whole file', () => {
  it('made at least 10,000 calls, and every code met is in the README table of errors', () => {
    expect(callCount).toBeGreaterThanOrEqual(10_000);
    expect([...met].filter((code) => !documented.has(code))).toEqual([]);
  });
});
