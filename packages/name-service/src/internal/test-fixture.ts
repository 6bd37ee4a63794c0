import { LocalStore, type Store, type Versioned } from '@fos/distributed-store';
import { FosError, isFosError, type FosErrorCode, type RandomSource } from '@fos/base';
import { formatLocation, type MailboxLocation } from '@fos/microkernel';
import { SeededRandom } from '@fos/sim';
import type { NameEntry } from '../entry.js';
import type { NameServiceLimits } from '../limits.js';
import { NameServer, type LoadBalancerFunction, type RequesterPlace } from '../name-server.js';

/** A fake kernel alias table: the pairs it holds and every call, in order. */
export class FakeAliases {
  readonly held = new Set<string>();
  readonly calls: string[] = [];
  failAdd: ((location: MailboxLocation, name: string) => FosError | undefined) | undefined;

  async add(location: MailboxLocation, name: string): Promise<void> {
    const failure = this.failAdd?.(location, name);
    if (failure !== undefined) throw failure;
    const key = `${formatLocation(location)} ${name}`;
    if (this.held.has(key)) throw new Error(`alias added twice: ${key}`);
    this.held.add(key);
    this.calls.push(`+${key}`);
  }

  async remove(location: MailboxLocation, name: string): Promise<void> {
    const key = `${formatLocation(location)} ${name}`;
    if (!this.held.delete(key)) throw new Error(`alias removed but not held: ${key}`);
    this.calls.push(`-${key}`);
  }

  sorted(): string[] {
    return [...this.held].sort();
  }

  takeCalls(): string[] {
    return this.calls.splice(0);
  }
}

/** A store wrapper that rejects chosen modifications with CONFLICT (counted from 0 over all modifications). */
export class ConflictingStore implements Store<NameEntry> {
  readonly inner: LocalStore<NameEntry>;
  modifications = 0;
  failWhen: (index: number, operation: 'insert' | 'update' | 'delete', key: string) => boolean = () => false;

  constructor(inner: LocalStore<NameEntry>) {
    this.inner = inner;
  }

  #check(operation: 'insert' | 'update' | 'delete', key: string): void {
    const index = this.modifications;
    this.modifications += 1;
    if (this.failWhen(index, operation, key))
      throw new FosError('CONFLICT', `injected conflict on ${operation} ${key} (#${index})`);
  }

  async insert(key: string, value: NameEntry): Promise<void> {
    this.#check('insert', key);
    return this.inner.insert(key, value);
  }

  async update(key: string, value: NameEntry, expectedVersion: number): Promise<void> {
    this.#check('update', key);
    return this.inner.update(key, value, expectedVersion);
  }

  async delete(key: string, expectedVersion: number): Promise<void> {
    this.#check('delete', key);
    return this.inner.delete(key, expectedVersion);
  }

  async get(key: string): Promise<Versioned<NameEntry> | undefined> {
    return this.inner.get(key);
  }

  hash(): string {
    return this.inner.hash();
  }

  snapshot(): ReturnType<LocalStore<NameEntry>['snapshot']> {
    return this.inner.snapshot();
  }
}

/** Everything a test needs around one started name server. */
export interface Fixture {
  readonly server: NameServer;
  readonly store: ConflictingStore;
  readonly aliases: FakeAliases;
  readonly random: RandomSource;
  readonly root: string;
  readonly management: string;
  requester: RequesterPlace | undefined;
}

/** Starts a name server over a LocalStore with fakes around it. */
export async function startFixture(
  options: {
    seed?: number;
    random?: RandomSource;
    limits?: Partial<NameServiceLimits>;
    loadBalancer?: LoadBalancerFunction;
  } = {},
): Promise<Fixture> {
  const random = options.random ?? new SeededRandom(options.seed ?? 1);
  const store = new ConflictingStore(new LocalStore<NameEntry>());
  const aliases = new FakeAliases();
  const holder: { requester: RequesterPlace | undefined } = { requester: undefined };
  const server = new NameServer({
    store,
    random,
    aliases,
    requester: () => holder.requester,
    ...(options.loadBalancer === undefined ? {} : { loadBalancer: options.loadBalancer }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
  });
  const { rootCapability, managementCapability } = await server.start();
  const fixture = {
    server,
    store,
    aliases,
    random,
    root: rootCapability,
    management: managementCapability,
    get requester() {
      return holder.requester;
    },
    set requester(value: RequesterPlace | undefined) {
      holder.requester = value;
    },
  };
  return fixture;
}

/** The code a promise rejects with, or 'ok'. */
export async function codeOf(promise: Promise<unknown>): Promise<FosErrorCode | 'ok'> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (isFosError(error)) return error.code;
    throw error;
  }
}

/** A mailbox location for tests. */
export function at(mailbox: number, core = 0, machine = 'm'): MailboxLocation {
  return { machine, core, mailbox };
}
