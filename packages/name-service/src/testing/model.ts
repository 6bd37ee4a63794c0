// A plain in-memory model of the name space (thesis §4.3, Tables 4.2 and 4.3), written from the
// documentation and independently of NameServer: what each request must answer and how it changes
// the table, including the kernel aliases the name service must keep. The model-based tests run the
// same random requests against a name service and against this model.
import { validateName, validateSubdomain, type FosErrorCode } from '@fos/base';
import { formatLocation, type MailboxLocation } from '@fos/microkernel';
import { indirectionHopsMax } from '../limits.js';

/** A direct name as the model keeps it. */
export type ModelDirect = {
  type: 'direct';
  cap: string;
  location: MailboxLocation;
  published: string | undefined;
  active: boolean;
};
/** An indirect name as the model keeps it. */
export type ModelIndirect = {
  type: 'indirect';
  cap: string;
  destinations: Map<string, { weight: number; cap: string }>;
  active: boolean;
};
/** A name as the model keeps it. */
export type ModelName = ModelDirect | ModelIndirect;

/** What the model answers for a request the name service must refuse. */
export class Refusal extends Error {
  constructor(readonly code: FosErrorCode) {
    super(code);
  }
}
/** Throws the model's refusal. */
export function refuse(code: FosErrorCode): never {
  throw new Refusal(code);
}

/** True when `text` is a valid name. */
export function isName(text: unknown): boolean {
  try {
    validateName(text);
    return true;
  } catch {
    return false;
  }
}
/** True when `text` is a valid sub-domain. */
export function isSubdomain(text: unknown): boolean {
  try {
    validateSubdomain(text);
    return true;
  } catch {
    return false;
  }
}
/** The syntax of a capability. */
export const capabilityPattern = /^[A-Za-z0-9_-]{22}$/;

/** The name space as a reader of the documentation would keep it. */
export class Model {
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
    for (let length = segments.length - 1; length >= 0; length -= 1)
      domains.push(length === 0 ? '/*' : `/${segments.slice(0, length).join('/')}/*`);
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
    for (const destination of entry.destinations.keys())
      deepest = Math.max(deepest, this.depth(destination, [...path, name]));
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
    for (const [name, entry] of this.names)
      if (entry.type === 'indirect') for (const leaf of this.leaves(name)) pairs.push(`${leaf} ${name}`);
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
      copy.names.set(
        key,
        value.type === 'direct'
          ? { ...value }
          : { ...value, destinations: new Map([...value.destinations].map(([name, item]) => [name, { ...item }])) },
      );
    }
    return copy;
  }
}

/** A Register, as the model sees it. */
export interface ModelRegister {
  readonly name: string;
  readonly cap: string;
  readonly destination:
    { type: 'direct'; location: MailboxLocation } | { type: 'indirect'; name: string; weight: number };
  readonly active: boolean | undefined;
}

/** Checks a register against the model; on success returns how to apply the answer. */
export function modelRegister(model: Model, command: ModelRegister): (nameCapability: string) => void {
  const { name, cap, destination } = command;
  if (!isName(name) || name === '/sys/name' || model.underTmp(name)) refuse('INVALID_NAME');
  if (destination.type === 'indirect' && (!isName(destination.name) || destination.name === '/sys/name'))
    refuse('INVALID_NAME');
  if (!capabilityPattern.test(cap)) refuse('PERMISSION_DENIED');
  const existing = model.names.get(name);
  const ownsName = existing !== undefined && existing.cap === cap;
  if (!ownsName && !model.covered(name, cap)) refuse('PERMISSION_DENIED');
  const active = command.active ?? true;
  if (existing === undefined) {
    if (destination.type === 'direct')
      return (nameCapability) =>
        model.names.set(name, {
          type: 'direct',
          cap: nameCapability,
          location: destination.location,
          published: undefined,
          active,
        });
    if (destination.name === name) refuse('CYCLE');
    if (!model.names.has(destination.name)) refuse('NO_SUCH_NAME');
    model.depth(destination.name, [name]);
    return (nameCapability) =>
      model.names.set(name, {
        type: 'indirect',
        cap: nameCapability,
        destinations: new Map([[destination.name, { weight: destination.weight, cap: nameCapability }]]),
        active,
      });
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
    (trial.names.get(name) as ModelIndirect).destinations.set(destination.name, {
      weight: destination.weight,
      cap: '',
    });
    for (const other of trial.names.keys()) trial.depth(other);
    return (destinationCapability) => {
      existing.destinations.set(destination.name, { weight: destination.weight, cap: destinationCapability });
      existing.active = active;
    };
  }
  return refuse('NAME_EXISTS');
}

/** An Unregister, as the model sees it. */
export interface ModelUnregister {
  readonly name: string;
  readonly cap: string;
  readonly destination: string | undefined;
  readonly deactivate: boolean | undefined;
}

/** Checks an unregister against the model; on success returns how to apply it. */
export function modelUnregister(model: Model, command: ModelUnregister): () => void {
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
  const ownsDestination =
    entry.type === 'indirect' && destination !== undefined && entry.destinations.get(destination)?.cap === cap;
  if (entry.cap !== cap && !ownsDestination && !model.covered(name, cap)) refuse('PERMISSION_DENIED');
  if (deactivate) return () => (entry.active = false);
  if (destination === undefined) return () => model.removeCascade(name);
  if (entry.type !== 'indirect' || !entry.destinations.has(destination)) refuse('NO_SUCH_NAME');
  return () => {
    entry.destinations.delete(destination);
    if (entry.destinations.size === 0) model.removeCascade(name);
  };
}

/** Checks a reserve against the model; on success returns how to apply the answer. */
export function modelReserve(model: Model, domain: string, cap: string): (capability: string) => void {
  if (!isSubdomain(domain) || model.underTmp(domain)) refuse('INVALID_NAME');
  if (domain === '/*') refuse('NAME_EXISTS');
  if (!capabilityPattern.test(cap)) refuse('PERMISSION_DENIED');
  if (!model.covered(domain, cap)) refuse('PERMISSION_DENIED');
  if (model.reservations.has(domain)) refuse('NAME_EXISTS');
  return (capability) => model.reservations.set(domain, capability);
}

/** The destinations a Lookup of an indirect name may answer, or the error / direct answer. */
/** What a Lookup must answer: an error, the direct entry, or the destinations it may pick from. */
export function modelLookup(
  model: Model,
  name: string,
): { error: FosErrorCode } | { direct: ModelDirect } | { possible: Set<string> } {
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
