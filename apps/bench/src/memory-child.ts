#!/usr/bin/env node
// One measurement of `pnpm bench memory`, in a process of its own run with --expose-gc (so the bench
// process's heap does not blur it): `node --expose-gc dist/memory-child.js <kind> <count>` builds
// `count` things of one kind, keeps them reachable, and prints one JSON line: the heap and RSS after a
// full collection before and after, and the difference per thing.
import { CryptoRandom, decodeBody, encodeBody, FosError, SystemClock } from '@fos/base';
import { LocalStore, ReplicatedMember, type Store, type StoreMessage } from '@fos/distributed-store';
import { mintCapability, LocalFabric, Machine, type MailboxLocation, type ProcessContext } from '@fos/microkernel';
import { NameServer, type NameEntry } from '@fos/name-service';
import { getHeapStatistics } from 'node:v8';

/** What the process uses after a full collection. */
export interface MemorySnapshot {
  /** `v8.getHeapStatistics().used_heap_size`: live JavaScript objects. */
  readonly heapBytes: number;
  /** `process.memoryUsage().rss`: the whole process's resident memory. */
  readonly rssBytes: number;
  /** `process.memoryUsage().external`: memory of C++ objects bound to JavaScript ones (ports, buffers). */
  readonly externalBytes: number;
}

/** The JSON line a child prints. */
export interface MemoryMeasurement {
  readonly kind: MemoryKind;
  readonly count: number;
  readonly before: MemorySnapshot;
  readonly after: MemorySnapshot;
  /** `(after - before) / count` of each figure. */
  readonly perItem: MemorySnapshot;
  /** How long building the things took, in ms. */
  readonly buildMs: number;
}

/** The kinds of thing a child can build. */
export const memoryKinds = [
  'process',
  'object-with-port',
  'mailbox',
  'plain-mailbox',
  'names',
  'names-fleet',
  'names-map',
] as const;
export type MemoryKind = (typeof memoryKinds)[number];

declare const gc: (() => void) | undefined;

async function snapshot(): Promise<MemorySnapshot> {
  if (typeof gc !== 'function') throw new Error('run with node --expose-gc');
  // Several collections with turns between them: finalizers and weak callbacks run, the heap settles.
  for (let index = 0; index < 4; index++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const usage = process.memoryUsage();
  return { heapBytes: getHeapStatistics().used_heap_size, rssBytes: usage.rss, externalBytes: usage.external };
}

/** Builds something, measured before and after; `keep` holds it reachable until the second snapshot. */
type Builder = (count: number) => Promise<{ before: MemorySnapshot; keep: unknown }>;

/** Cores of the machines built here (processes spread over them; `processesPerCoreMax` each). */
const cores = 4;
/** Names one mailbox holds (the kernel's `namesPerMailboxMax`): the names of the table point at mailboxes this full. */
const namesPerMailbox = 256;

const builders: Record<MemoryKind, Builder> = {
  // Idle processes: spawned, their entry returned, nothing else.
  process: async (count) => {
    const machine = new Machine({ fabric: new LocalFabric({ cores }) });
    await machine.spawn({ core: 0, name: 'warm', function: () => undefined });
    const before = await snapshot();
    const handles = [];
    for (let index = 0; index < count; index++)
      handles.push(await machine.spawn({ core: index % cores, name: `idle-${index}`, function: () => undefined }));
    return { before, keep: [machine, handles] };
  },
  // The least a Node actor holds: an object with one end of a MessageChannel.
  'object-with-port': async (count) => {
    const before = await snapshot();
    const objects = [];
    for (let index = 0; index < count; index++) objects.push({ port: new MessageChannel().port1 });
    return { before, keep: objects };
  },
  // Mailboxes created by processes that exist already (64 a process, `mailboxesPerProcessMax`).
  mailbox: async (count) => {
    const machine = new Machine({ fabric: new LocalFabric({ cores }) });
    const contexts: ProcessContext[] = [];
    for (let index = 0; index < Math.ceil((count + 1) / 64); index++)
      await machine.spawn({
        core: index % cores,
        name: `owner-${index}`,
        function: (context: ProcessContext) => void contexts.push(context),
      });
    // One mailbox first, so that the code creating them is compiled before the base is taken.
    const warm = await (contexts[0] as ProcessContext).kernel.createMailbox();
    const before = await snapshot();
    const mailboxes = [warm];
    for (let index = 0; index < count; index++)
      mailboxes.push(await (contexts[Math.floor((index + 1) / 64)] as ProcessContext).kernel.createMailbox());
    return { before, keep: [machine, contexts, mailboxes] };
  },
  // What a mailbox must hold at least: a queue, a set of names, its capability.
  'plain-mailbox': async (count) => {
    const random = new CryptoRandom();
    const before = await snapshot();
    const mailboxes = [];
    for (let index = 0; index < count; index++)
      mailboxes.push({ queue: [] as unknown[], names: new Set<string>(), capability: mintCapability(random) });
    return { before, keep: mailboxes };
  },
  names: async (count) => {
    const store = new LocalStore<NameEntry>();
    const { server, root } = await startServer(store);
    const before = await snapshot();
    await registerNames(server, root, count);
    return { before, keep: [server, store] };
  },
  'names-fleet': async (count) => {
    const members = replicatedFleet(['a', 'b', 'c']);
    const [first, ...joining] = members;
    const { server, root } = await startServer(first as ReplicatedMember<NameEntry>);
    const before = await snapshot();
    await registerNames(server, root, count);
    // The other two join as `growFleet` adds members: the table is copied to each in install parts.
    for (const member of joining) await member.join('a');
    if (members.some((member) => member.peers.length !== 2)) throw new Error('a member did not join');
    return { before, keep: [server, members] };
  },
  // The same names and locations in a plain Map, each value parsed from JSON as a server receives it.
  'names-map': async (count) => {
    const random = new CryptoRandom();
    const before = await snapshot();
    const table = new Map<string, unknown>();
    let capability = '';
    for (let index = 0; index < count; index++) {
      if (index % namesPerMailbox === 0) capability = mintCapability(random);
      table.set(nameOf(index), JSON.parse(JSON.stringify({ location: locationOf(index), capability })) as unknown);
    }
    return { before, keep: table };
  },
};

function nameOf(index: number): string {
  return `/bench/names/${index}`;
}

function locationOf(index: number): MailboxLocation {
  const mailbox = 1 + Math.floor(index / namesPerMailbox);
  return { machine: 'machine-0', core: mailbox % cores, mailbox };
}

/** A started name server over `store`, its aliases left to the kernel of the destination (not in this heap). */
async function startServer(store: Store<NameEntry>): Promise<{ server: NameServer; root: string }> {
  const server = new NameServer({
    store,
    random: new CryptoRandom(),
    aliases: { add: async () => undefined, remove: async () => undefined },
    requester: () => undefined,
  });
  const { rootCapability } = await server.start();
  // One name first, so that the code of Register is compiled before the base is taken.
  await server.register({
    name: '/warm',
    capability: rootCapability,
    destination: { type: 'direct', location: locationOf(0), publishedCapability: mintCapability(new CryptoRandom()) },
  });
  return { server, root: rootCapability };
}

/** Registers `count` direct names through the name server's Register (a new published capability per mailbox). */
async function registerNames(server: NameServer, root: string, count: number): Promise<void> {
  const random = new CryptoRandom();
  let publishedCapability = '';
  for (let index = 0; index < count; index++) {
    if (index % namesPerMailbox === 0) publishedCapability = mintCapability(random);
    await server.register({
      name: nameOf(index),
      capability: root,
      destination: { type: 'direct', location: locationOf(index), publishedCapability },
    });
  }
}

/**
 * Members of a replicated store, `a` installed and alone, the others joining; each message is encoded
 * and decoded on the way (so no member shares an object with another, as over a fabric) and delivered
 * in order on a later turn.
 */
function replicatedFleet(names: readonly string[]): ReplicatedMember<NameEntry>[] {
  const clock = new SystemClock();
  const byName = new Map<string, ReplicatedMember<NameEntry>>();
  for (const [index, name] of names.entries()) {
    const member = new ReplicatedMember<NameEntry>({
      name,
      peers: [],
      joining: index > 0,
      clock,
      transport: {
        send: (to, message) => {
          const bytes = encodeBody(message);
          queueMicrotask(() => byName.get(to)?.receive(name, decodeBody(bytes) as unknown as StoreMessage<NameEntry>));
        },
      },
    });
    byName.set(name, member);
  }
  return [...byName.values()];
}

function perItem(before: MemorySnapshot, after: MemorySnapshot, count: number): MemorySnapshot {
  return {
    heapBytes: (after.heapBytes - before.heapBytes) / count,
    rssBytes: (after.rssBytes - before.rssBytes) / count,
    externalBytes: (after.externalBytes - before.externalBytes) / count,
  };
}

async function main(argv: readonly string[]): Promise<void> {
  const [kind, countText] = argv;
  const count = Number(countText);
  if (!memoryKinds.includes(kind as MemoryKind) || !Number.isSafeInteger(count) || count < 1)
    throw new FosError('BAD_REQUEST', `usage: memory-child.js <${memoryKinds.join('|')}> <count>`, { value: argv });
  const startedMs = performance.now();
  const { before, keep } = await builders[kind as MemoryKind](count);
  const buildMs = performance.now() - startedMs;
  const after = await snapshot();
  const measurement: MemoryMeasurement = {
    kind: kind as MemoryKind,
    count,
    before,
    after,
    perItem: perItem(before, after, count),
    buildMs,
  };
  process.stdout.write(`${JSON.stringify(measurement)}\n`);
  // Reachable until here.
  if (keep === undefined) throw new Error('nothing was kept');
  process.exit(0);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`memory-child: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
