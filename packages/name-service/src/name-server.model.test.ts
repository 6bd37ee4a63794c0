// Model-based test: random sequences of requests, some malformed and some with wrong capabilities,
// run against NameServer over a LocalStore and against a plain in-memory model of the name space
// written here independently. Every answer must match the model, the kernel's alias table must hold
// exactly the names the model says, and every refused request must leave the table unchanged.
import { formatLocation, isFosError, mintCapability, validateName, validateSubdomain, type FosErrorCode, type MailboxLocation } from '@fos/microkernel';
import { SeededRandom } from '@fos/sim';
import { describe, expect, it } from 'vitest';
import { startFixture, type Fixture } from './internal/test-fixture.js';
import { indirectionHopsMax, lookupTtlMs } from './limits.js';

type ModelDirect = { type: 'direct'; cap: string; location: MailboxLocation; published: string | undefined; active: boolean };
type ModelIndirect = { type: 'indirect'; cap: string; destinations: Map<string, { weight: number; cap: string }>; active: boolean };
type ModelName = ModelDirect | ModelIndirect;

type Expected = { error: FosErrorCode } | { ok: true };

class Refusal extends Error {
  constructor(readonly code: FosErrorCode) {
    super(code);
  }
}
function refuse(code: FosErrorCode): never {
  throw new Refusal(code);
}

function isName(text: unknown): boolean {
  try {
    validateName(text);
    return true;
  } catch {
    return false;
  }
}
function isSubdomain(text: unknown): boolean {
  try {
    validateSubdomain(text);
    return true;
  } catch {
    return false;
  }
}
const capabilityPattern = /^[A-Za-z0-9_-]{22}$/;

/** The name space as a reader of the documentation would keep it. */
class Model {
  readonly reservations = new Map<string, string>();
  readonly names = new Map<string, ModelName>();

  constructor(root: string) {
    this.reservations.set('/*', root);
    this.reservations.set('/tmp/*', 'the service keeps this one');
  }

  /** Sub-domains enclosing a name or a sub-domain, nearest first. */
  enclosing(name: string): string[] {
    const segments = name.split('/').filter((segment) => segment !== '' && segment !== '*');
    const domains: string[] = [];
    for (let length = segments.length - 1; length >= 0; length -= 1) domains.push(length === 0 ? '/*' : `/${segments.slice(0, length).join('/')}/*`);
    return domains;
  }

  covered(name: string, cap: string): boolean {
    return this.enclosing(name).some((domain) => this.reservations.get(domain) === cap);
  }

  underTmp(name: string): boolean {
    return name.startsWith('/tmp/') && name !== '/tmp/*';
  }

  /** Longest chain of indirect names below `name`; refuses cycles and chains past the hop bound. */
  depth(name: string, path: string[] = []): number {
    if (path.includes(name)) refuse('CYCLE');
    const entry = this.names.get(name);
    if (entry?.type !== 'indirect') return 0;
    let deepest = 0;
    for (const destination of entry.destinations.keys()) deepest = Math.max(deepest, this.depth(destination, [...path, name]));
    if (path.length + deepest + 1 > indirectionHopsMax) refuse('CYCLE');
    return deepest + 1;
  }

  leaves(name: string): Set<string> {
    const entry = this.names.get(name);
    if (entry === undefined) return new Set();
    if (entry.type === 'direct') return new Set([formatLocation(entry.location)]);
    const result = new Set<string>();
    for (const destination of entry.destinations.keys()) for (const leaf of this.leaves(destination)) result.add(leaf);
    return result;
  }

  aliases(): string[] {
    const pairs: string[] = [];
    for (const [name, entry] of this.names) if (entry.type === 'indirect') for (const leaf of this.leaves(name)) pairs.push(`${leaf} ${name}`);
    return pairs.sort();
  }

  removeCascade(name: string): void {
    this.names.delete(name);
    for (const [other, entry] of [...this.names]) {
      if (entry.type !== 'indirect' || !entry.destinations.has(name)) continue;
      entry.destinations.delete(name);
      if (entry.destinations.size === 0) this.removeCascade(other);
    }
  }

  clone(): Model {
    const copy = new Model('');
    copy.reservations.clear();
    for (const [key, value] of this.reservations) copy.reservations.set(key, value);
    for (const [key, value] of this.names) {
      copy.names.set(key, value.type === 'direct' ? { ...value } : { ...value, destinations: new Map([...value.destinations].map(([name, item]) => [name, { ...item }])) });
    }
    return copy;
  }
}

interface RegisterCommand {
  readonly name: string;
  readonly cap: string;
  readonly destination: { type: 'direct'; location: MailboxLocation } | { type: 'indirect'; name: string; weight: number };
  readonly active: boolean | undefined;
}

/** Checks a register against the model; on success returns how to apply the answer. */
function modelRegister(model: Model, command: RegisterCommand): (nameCapability: string) => void {
  const { name, cap, destination } = command;
  if (!isName(name) || name === '/sys/name' || model.underTmp(name)) refuse('INVALID_NAME');
  if (destination.type === 'indirect' && (!isName(destination.name) || destination.name === '/sys/name')) refuse('INVALID_NAME');
  if (!capabilityPattern.test(cap)) refuse('PERMISSION_DENIED');
  const existing = model.names.get(name);
  const ownsName = existing !== undefined && existing.cap === cap;
  if (!ownsName && !model.covered(name, cap)) refuse('PERMISSION_DENIED');
  const active = command.active ?? true;
  if (existing === undefined) {
    if (destination.type === 'direct') return (nameCapability) => model.names.set(name, { type: 'direct', cap: nameCapability, location: destination.location, published: undefined, active });
    if (destination.name === name) refuse('CYCLE');
    if (!model.names.has(destination.name)) refuse('NO_SUCH_NAME');
    model.depth(destination.name, [name]);
    return (nameCapability) => model.names.set(name, { type: 'indirect', cap: nameCapability, destinations: new Map([[destination.name, { weight: destination.weight, cap: nameCapability }]]), active });
  }
  if (existing.type === 'direct' && destination.type === 'direct') {
    if (!ownsName) refuse('NAME_EXISTS');
    return () => model.names.set(name, { ...existing, location: destination.location, published: undefined, active });
  }
  if (existing.type === 'indirect' && destination.type === 'indirect') {
    if (destination.name === name) refuse('CYCLE');
    if (existing.destinations.has(destination.name)) refuse('NAME_EXISTS');
    if (!model.names.has(destination.name)) refuse('NO_SUCH_NAME');
    const trial = model.clone();
    (trial.names.get(name) as ModelIndirect).destinations.set(destination.name, { weight: destination.weight, cap: '' });
    for (const other of trial.names.keys()) trial.depth(other);
    return (destinationCapability) => {
      existing.destinations.set(destination.name, { weight: destination.weight, cap: destinationCapability });
      existing.active = active;
    };
  }
  return refuse('NAME_EXISTS');
}

interface UnregisterCommand {
  readonly name: string;
  readonly cap: string;
  readonly destination: string | undefined;
  readonly deactivate: boolean | undefined;
}

function modelUnregister(model: Model, command: UnregisterCommand): () => void {
  const { name, cap, destination } = command;
  const deactivate = command.deactivate ?? false;
  const subdomain = isSubdomain(name);
  if ((!subdomain && !isName(name)) || name === '/sys/name') refuse('INVALID_NAME');
  if (destination !== undefined && !isName(destination)) refuse('INVALID_NAME');
  if (subdomain && (destination !== undefined || deactivate)) refuse('BAD_REQUEST');
  if (destination !== undefined && deactivate) refuse('BAD_REQUEST');
  if (!capabilityPattern.test(cap)) refuse('PERMISSION_DENIED');
  if (name === '/*' || name === '/tmp/*') refuse('PERMISSION_DENIED');
  if (subdomain) {
    const own = model.reservations.get(name);
    if (own === undefined) refuse('NO_SUCH_NAME');
    if (own !== cap && !model.covered(name, cap)) refuse('PERMISSION_DENIED');
    return () => model.reservations.delete(name);
  }
  const entry = model.names.get(name);
  if (entry === undefined) refuse('NO_SUCH_NAME');
  const ownsDestination = entry.type === 'indirect' && destination !== undefined && entry.destinations.get(destination)?.cap === cap;
  if (entry.cap !== cap && !ownsDestination && !model.covered(name, cap)) refuse('PERMISSION_DENIED');
  if (deactivate) return () => (entry.active = false);
  if (destination === undefined) return () => model.removeCascade(name);
  if (entry.type !== 'indirect' || !entry.destinations.has(destination)) refuse('NO_SUCH_NAME');
  return () => {
    entry.destinations.delete(destination);
    if (entry.destinations.size === 0) model.removeCascade(name);
  };
}

function modelReserve(model: Model, domain: string, cap: string): (capability: string) => void {
  if (!isSubdomain(domain) || model.underTmp(domain)) refuse('INVALID_NAME');
  if (domain === '/*') refuse('NAME_EXISTS');
  if (!capabilityPattern.test(cap)) refuse('PERMISSION_DENIED');
  if (!model.covered(domain, cap)) refuse('PERMISSION_DENIED');
  if (model.reservations.has(domain)) refuse('NAME_EXISTS');
  return (capability) => model.reservations.set(domain, capability);
}

/** The destinations a Lookup of an indirect name may answer, or the error / direct answer. */
function modelLookup(model: Model, name: string): { error: FosErrorCode } | { direct: ModelDirect } | { possible: Set<string> } {
  if (!isName(name) && !isSubdomain(name)) return { error: 'INVALID_NAME' };
  if (name === '/sys/name') return { error: 'INVALID_NAME' };
  const entry = isSubdomain(name) ? undefined : model.names.get(name);
  if (entry === undefined) return { error: 'NO_SUCH_NAME' };
  if (!entry.active) return { error: 'INACTIVE' };
  if (entry.type === 'direct') return { direct: entry };
  const existing = [...entry.destinations.keys()].filter((destination) => model.names.has(destination));
  const active = existing.filter((destination) => model.names.get(destination)?.active === true);
  return { possible: new Set(active.length > 0 ? active : existing) };
}

const nameChoices = ['/a', '/b', '/c', '/d', '/a/b', '/a/c', '/a/d', '/b/a', '/b/c', '/c/c/c'];
const invalidNameChoices = ['/sys/name', 'bad', '/a/*', '/tmp/x', '/a/../b'];
const domainChoices = ['/a/*', '/b/*', '/a/b/*', '/c/c/*', '/*', '/tmp/*', '/tmp/q/*', '/a', 'nope/*'];

class Generator {
  readonly random: SeededRandom;
  readonly caps: string[] = [];
  constructor(seed: number, root: string) {
    this.random = new SeededRandom(seed);
    this.caps.push(root, mintCapability(this.random), 'malformed-capability');
  }
  pick<T>(items: readonly T[]): T {
    return items[this.random.nextInt(items.length)] as T;
  }
  chance(percent: number): boolean {
    return this.random.nextInt(100) < percent;
  }
  cap(): string {
    // Mostly capabilities that mean something (the root most of all); sometimes wrong ones.
    return this.chance(35) ? (this.caps[0] as string) : this.pick(this.caps);
  }
  name(model: Model): string {
    const registered = [...model.names.keys()];
    if (this.chance(8)) return this.pick(invalidNameChoices);
    return registered.length > 0 && this.chance(45) ? this.pick(registered) : this.pick(nameChoices);
  }
  location(): MailboxLocation {
    return { machine: 'm', core: this.random.nextInt(2), mailbox: 1 + this.random.nextInt(4) };
  }
}

async function outcome<T>(promise: Promise<T>): Promise<{ value: T } | { error: FosErrorCode }> {
  try {
    return { value: await promise };
  } catch (error) {
    if (isFosError(error)) return { error: error.code };
    throw error;
  }
}

function expectation(plan: () => unknown): { error: FosErrorCode } | { apply: unknown } {
  try {
    return { apply: plan() };
  } catch (error) {
    if (error instanceof Refusal) return { error: error.code };
    throw error;
  }
}

async function runSequence(seed: number, commandsMax: number, seen: Map<string, number>): Promise<string[]> {
  const fixture: Fixture = await startFixture({ seed });
  const model = new Model(fixture.root);
  const generator = new Generator(seed * 7919 + 1, fixture.root);
  const trace: string[] = [];
  const length = 1 + generator.random.nextInt(commandsMax);
  for (let step = 0; step < length; step += 1) {
    const hashBefore = await fixture.server.tableHash();
    const kind = generator.random.nextInt(100);
    let expected: Expected;
    let actual: { value: unknown } | { error: FosErrorCode };
    if (kind < 12) {
      const domain = generator.pick(domainChoices);
      const cap = generator.cap();
      const plan = expectation(() => modelReserve(model, domain, cap));
      trace.push(`reserve ${domain}`);
      const result = await outcome(fixture.server.reserve({ domain, capability: cap }));
      actual = result;
      expected = 'error' in plan ? plan : { ok: true };
      if ('value' in result && 'apply' in plan) {
        (plan.apply as (capability: string) => void)(result.value.capability);
        generator.caps.push(result.value.capability);
      }
    } else if (kind < 55) {
      const indirect = generator.chance(55);
      const command: RegisterCommand = {
        name: generator.name(model),
        cap: generator.cap(),
        destination: indirect ? { type: 'indirect', name: generator.name(model), weight: 1 + generator.random.nextInt(1000) } : { type: 'direct', location: generator.location() },
        active: generator.chance(15) ? false : generator.chance(10) ? true : undefined,
      };
      trace.push(`register ${command.name} ${JSON.stringify(command.destination)}`);
      const plan = expectation(() => modelRegister(model, command));
      const result = await outcome(
        fixture.server.register({ name: command.name, capability: command.cap, destination: command.destination, ...(command.active === undefined ? {} : { active: command.active }) }),
      );
      actual = result;
      expected = 'error' in plan ? plan : { ok: true };
      if ('value' in result && 'apply' in plan) {
        (plan.apply as (capability: string) => void)(result.value.nameCapability);
        generator.caps.push(result.value.nameCapability);
      }
    } else if (kind < 75) {
      const entry = model.names.get(generator.name(model));
      const name = generator.chance(15) ? generator.pick(domainChoices) : generator.name(model);
      const destination = entry?.type === 'indirect' && generator.chance(50) ? generator.pick([...entry.destinations.keys()]) : generator.chance(10) ? generator.name(model) : undefined;
      const command: UnregisterCommand = { name, cap: generator.cap(), destination, deactivate: generator.chance(15) ? true : undefined };
      trace.push(`unregister ${name} ${destination ?? ''} ${command.deactivate === true ? 'deactivate' : ''}`);
      const plan = expectation(() => modelUnregister(model, command));
      actual = await outcome(
        fixture.server.unregister({
          name,
          capability: command.cap,
          ...(destination === undefined ? {} : { destination }),
          ...(command.deactivate === undefined ? {} : { deactivate: command.deactivate }),
        }),
      );
      expected = 'error' in plan ? plan : { ok: true };
      if ('value' in actual && 'apply' in plan) (plan.apply as () => void)();
    } else if (kind < 92) {
      const name = generator.chance(10) ? generator.pick(domainChoices) : generator.name(model);
      trace.push(`lookup ${name}`);
      const predicted = modelLookup(model, name);
      const result = await outcome(fixture.server.lookup(name));
      actual = result;
      if ('error' in predicted) expected = predicted;
      else {
        expected = { ok: true };
        if ('value' in result) {
          if ('direct' in predicted) {
            expect(result.value, trace.join('\n')).toEqual({ type: 'direct', name, location: predicted.direct.location, publishedCapability: null, ttlMs: lookupTtlMs });
          } else {
            expect(result.value.type, trace.join('\n')).toBe('indirect');
            expect(predicted.possible.has((result.value as { next: string }).next), trace.join('\n')).toBe(true);
          }
        }
      }
    } else if (kind < 96) {
      const location = generator.location();
      trace.push('registerTemporary');
      const result = await outcome(fixture.server.registerTemporary({ location }));
      actual = result;
      expected = { ok: true };
      if ('value' in result) {
        expect(result.value.name).toMatch(/^\/tmp\/[a-z2-7]{16}$/);
        expect(model.names.has(result.value.name)).toBe(false);
        model.names.set(result.value.name, { type: 'direct', cap: result.value.nameCapability, location, published: undefined, active: true });
        generator.caps.push(result.value.nameCapability);
      }
    } else {
      const malformed: () => Promise<unknown> = generator.pick<() => Promise<unknown>>([
        () => fixture.server.register({ name: '/a', capability: generator.cap() } as never),
        () => fixture.server.register({ name: '/a', capability: generator.cap(), destination: { type: 'indirect', name: '/b', weight: 0 } }),
        () => fixture.server.register(undefined as never),
        () => fixture.server.unregister({ name: 5, capability: generator.cap() } as never),
        () => fixture.server.reserve({ domain: '/q/*' } as never),
        () => fixture.server.registerTemporary({ location: { machine: '', core: 0, mailbox: 1 } }),
      ]);
      trace.push('malformed');
      actual = await outcome(malformed());
      expected = { error: 'BAD_REQUEST' };
    }
    const context = `seed=${seed}\n${trace.join('\n')}`;
    const label = `${(trace.at(-1) ?? '').split(' ')[0] ?? ''} ${'error' in actual ? actual.error : 'ok'}`;
    seen.set(label, (seen.get(label) ?? 0) + 1);
    if ('error' in expected) {
      expect('error' in actual ? actual.error : 'ok', context).toBe(expected.error);
      expect(await fixture.server.tableHash(), context).toBe(hashBefore);
    } else {
      expect('error' in actual ? actual.error : 'ok', context).toBe('ok');
    }
    expect(fixture.aliases.sorted(), context).toEqual(model.aliases());
  }
  return trace;
}

describe('NameServer against a model of the name space', () => {
  it('agrees on 200 random sequences of up to 40 requests', async () => {
    const seeds = 200;
    let steps = 0;
    const seen = new Map<string, number>();
    for (let seed = 1; seed <= seeds; seed += 1) steps += (await runSequence(seed, 40, seen)).length;
    expect(steps).toBeGreaterThan(seeds * 10);
    // The sequences reach every answer that matters, not just the easy ones.
    const wanted = [
      'reserve ok', 'reserve NAME_EXISTS', 'reserve PERMISSION_DENIED', 'reserve INVALID_NAME',
      'register ok', 'register NAME_EXISTS', 'register PERMISSION_DENIED', 'register INVALID_NAME', 'register CYCLE', 'register NO_SUCH_NAME',
      'unregister ok', 'unregister NO_SUCH_NAME', 'unregister PERMISSION_DENIED', 'unregister INVALID_NAME', 'unregister BAD_REQUEST',
      'lookup ok', 'lookup NO_SUCH_NAME', 'lookup INACTIVE', 'lookup INVALID_NAME',
      'registerTemporary ok', 'malformed BAD_REQUEST',
    ];
    for (const label of wanted) expect(seen.get(label) ?? 0, `${label} in ${JSON.stringify([...seen])}`).toBeGreaterThan(0);
  });
});
