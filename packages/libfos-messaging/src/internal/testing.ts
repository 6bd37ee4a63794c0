// Test support: a deliberately small name service (no capability checks, first-destination picks)
// served the way a real member serves, so libfos's resolution and recovery can be tested alone. The
// real name service lives above this package (@fos/name-service); scenario tests with it are in
// @fos/system.
import { rpcHandler } from '@fos/dispatcher';
import { FosError } from '@fos/base';
import {
  LocalFabric,
  Machine,
  SimFabric,
  type Capability,
  type MailboxLocation,
  type ProcessContext,
} from '@fos/microkernel';
import { serveNameServiceApi } from '../generated/name-service-api.rpc.js';
import { createLibfos, spawnLibfos } from '../create.js';
import type { Libfos } from '../libfos.js';
import type { LookupResult, NameServiceApi, RegisterRequest, UnregisterRequest } from '../name-service-api.js';

type Entry =
  | { type: 'direct'; location: MailboxLocation; published: string | null; active: boolean }
  | { type: 'indirect'; destinations: string[] };

/** The toy name service's table, open to the test. */
export class ToyNameService implements NameServiceApi {
  readonly table = new Map<string, Entry>();
  lookups = 0;
  private temporary = 0;

  /** `park` runs a system call as a dispatcher operation of the thread serving the request (waitFor). */
  constructor(
    private readonly kernel: ProcessContext['kernel'],
    private readonly kernelCapability: Capability,
    private readonly park: <T>(promise: Promise<T>) => Promise<T>,
  ) {}

  async lookup(name: string): Promise<LookupResult> {
    this.lookups++;
    const entry = this.table.get(name);
    if (entry === undefined) throw new FosError('NO_SUCH_NAME', `${name} is not registered`, { value: name });
    if (entry.type === 'direct') {
      if (!entry.active) throw new FosError('INACTIVE', `${name} is inactive`, { value: name });
      return { type: 'direct', name, location: entry.location, publishedCapability: entry.published, ttlMs: 60_000 };
    }
    const next = entry.destinations[entry.destinations.length - 1];
    if (next === undefined) throw new FosError('NO_SUCH_NAME', `${name} has no destination`, { value: name });
    return { type: 'indirect', name, next, ttlMs: 60_000 };
  }

  async register(request: RegisterRequest): Promise<{ nameCapability: string }> {
    const destination = request.destination;
    if (destination.type === 'direct') {
      this.table.set(request.name, {
        type: 'direct',
        location: destination.location,
        published: destination.publishedCapability ?? null,
        active: request.active ?? true,
      });
    } else {
      const entry = this.table.get(request.name);
      const destinations = entry?.type === 'indirect' ? entry.destinations : [];
      destinations.push(destination.name);
      this.table.set(request.name, { type: 'indirect', destinations });
      const leaf = this.table.get(destination.name);
      if (leaf?.type === 'direct')
        await this.park(this.kernel.ukAddAlias(this.kernelCapability, leaf.location, request.name));
    }
    return { nameCapability: 'AAAAAAAAAAAAAAAAAAAAAA' };
  }

  async unregister(request: UnregisterRequest): Promise<void> {
    const entry = this.table.get(request.name);
    if (entry?.type === 'indirect' && request.destination !== undefined) {
      entry.destinations.splice(entry.destinations.indexOf(request.destination), 1);
      const leaf = this.table.get(request.destination);
      if (leaf?.type === 'direct')
        await this.park(this.kernel.ukRemoveAlias(this.kernelCapability, leaf.location, request.name));
      return;
    }
    this.table.delete(request.name);
  }

  async registerTemporary(request: { location: MailboxLocation }): Promise<{ name: string; nameCapability: string }> {
    const name = `/tmp/toy${++this.temporary}`;
    this.table.set(name, { type: 'direct', location: request.location, published: null, active: true });
    return { name, nameCapability: 'BBBBBBBBBBBBBBBBBBBBBB' };
  }

  async reserve(): Promise<{ capability: string }> {
    return { capability: 'CCCCCCCCCCCCCCCCCCCCCC' };
  }

  async list(): Promise<never> {
    throw new FosError('BAD_REQUEST', 'the toy name service does not list its table');
  }

  async leaveFleet(): Promise<never> {
    throw new FosError('BAD_REQUEST', 'the toy name service is no fleet');
  }
}

/** A machine with the toy name service as its name server on core 0. */
export async function toyMachine(
  kind: 'local' | 'sim',
  seed = 1,
): Promise<{ machine: Machine; names: ToyNameService }> {
  const machine = new Machine({
    fabric: kind === 'local' ? new LocalFabric({ cores: 4 }) : new SimFabric({ cores: 4, seed }),
    log: () => undefined,
  });
  let names: ToyNameService | undefined;
  await machine.spawn({
    core: 0,
    name: 'toy-name-server',
    function: async (context) => {
      const holder: { libfos?: Libfos } = {};
      const toy = new ToyNameService(context.kernel, machine.kernelCapability, (promise) => {
        const thread = holder.libfos?.dispatcher.currentThread;
        if (thread === undefined) throw new Error('the toy name service runs in a dispatcher thread');
        return thread.waitFor(promise);
      });
      const libfos = await createLibfos(context, { nameService: toy, kernelCapability: machine.kernelCapability });
      holder.libfos = libfos;
      const mailbox = await context.kernel.createMailbox();
      await context.kernel.ukNameServiceRegister(mailbox.location, machine.kernelCapability, mailbox.capability);
      libfos.serve(mailbox.location, { handler: rpcHandler(serveNameServiceApi(toy)) });
      names = toy;
    },
  });
  if (names === undefined) throw new Error('the name server did not start');
  return { machine, names };
}

/** Spawns a process and hands back its libfos. */
export function libfosProcess(machine: Machine, core: number, name: string): Promise<Libfos> {
  return spawnLibfos(machine, core, name);
}
