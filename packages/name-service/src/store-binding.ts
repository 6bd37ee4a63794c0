// The replicated store bound to fos: one store mailbox per name-service member (thesis §4.4.1: the data
// store registers its own internal mailbox), store messages carried as one-way dispatcher messages, and
// the members' mailbox addresses learned from the messages themselves.
import { ReplicatedMember, type MemberName, type StoreMessage, type Store, type Versioned } from '@fos/distributed-store';
import type { Libfos } from '@fos/libfos-messaging';
import { assert, FosError, hasFosErrorCode, type Capability, type MailboxLocation } from '@fos/microkernel';
import type { NameEntry } from './entry.js';

/** Where a member's store mailbox is: what the other members send store messages to. */
export type StoreAddress = { readonly member: MemberName; readonly name: string; readonly location: MailboxLocation; readonly capability: string };

/** A store message as it travels: the sender's address, and on membership messages every address known. */
type StoreEnvelope = { readonly store: StoreMessage<NameEntry>; readonly from: StoreAddress; readonly book?: StoreAddress[] };

/** The kernel name of a member's store mailbox. */
export function storeMailboxName(member: MemberName): string {
  return `/sys/ns-store/${member}`;
}

/** A bound member: its replicated store, and the address of its store mailbox. */
export type BoundStore = { readonly member: ReplicatedMember<NameEntry>; readonly address: StoreAddress; learn(address: StoreAddress): void };

/**
 * Creates the store mailbox of member `name` in `libfos`'s process, serves it, and returns the
 * replicated store member (`joining` for a member that will `join` a running fleet).
 */
export async function bindReplicatedStore(libfos: Libfos, name: MemberName, joining: boolean, log: (line: string) => void): Promise<BoundStore> {
  const mailbox = await libfos.createMailbox();
  const mailboxName = storeMailboxName(name);
  await libfos.context.kernel.addName(mailbox.location, mailboxName);
  const own: StoreAddress = { member: name, name: mailboxName, location: mailbox.location, capability: mailbox.capability };
  const book = new Map<MemberName, StoreAddress>();
  const learn = (address: StoreAddress): void => {
    if (address.member !== name) book.set(address.member, address);
  };
  const member = new ReplicatedMember<NameEntry>({
    name,
    peers: [],
    joining,
    clock: libfos.context.clock,
    transport: {
      send: (to, message) => {
        const address = book.get(to);
        assert(address !== undefined, `member ${name} knows the store mailbox of ${to}`);
        const carriesBook = message.kind === 'install' || message.kind === 'members' || message.kind === 'membershipRequest';
        const envelope: StoreEnvelope = carriesBook ? { store: message, from: own, book: [...book.values()] } : { store: message, from: own };
        void libfos.dispatcher
          .spawnThread('store-send', (thread) => thread.send({ name: address.name, location: address.location, capability: address.capability as Capability }, envelope))
          .catch((error: unknown) => {
            // At shutdown, what is still in flight goes nowhere; anything else is worth a line.
            if (!hasFosErrorCode(error, 'SHUTDOWN')) log(`name-service store ${name}: a ${message.kind} to ${to} was not delivered: ${String(error)}`);
          });
      },
    },
  });
  libfos.serve(mailbox.location, {
    handler: (request) => {
      const envelope = request.body as unknown as StoreEnvelope;
      if (typeof envelope !== 'object' || envelope === null || typeof envelope.from?.member !== 'string' || typeof envelope.store?.kind !== 'string') {
        log(`name-service store ${name}: dropped a malformed store message from ${request.sender.process}`);
        return undefined;
      }
      learn(envelope.from);
      for (const address of envelope.book ?? []) learn(address);
      // Not awaited: a vote waits for its outcome, which arrives as a later message of this mailbox.
      void Promise.resolve(member.receive(envelope.from.member, envelope.store)).catch((error: unknown) => log(`name-service store ${name}: ${String(error)}`));
      return undefined;
    },
  });
  return { member, address: own, learn };
}

/**
 * The store as the name server uses it from its request threads: each operation of the replicated
 * member is waited for as a dispatcher operation of the calling thread (outside a thread, directly).
 */
export function parkedStore(member: ReplicatedMember<NameEntry>, libfos: () => Libfos | undefined): Store<NameEntry> & { hash(): string; snapshot(): ReturnType<ReplicatedMember<NameEntry>['snapshot']> } {
  const park = <T>(promise: Promise<T>): Promise<T> => {
    const thread = libfos()?.dispatcher.currentThread;
    return thread === undefined ? promise : thread.waitFor(promise);
  };
  return {
    insert: (key, value) => park(member.insert(key, value)),
    update: (key, value, expectedVersion) => park(member.update(key, value, expectedVersion)),
    delete: (key, expectedVersion) => park(member.delete(key, expectedVersion)),
    get: (key): Promise<Versioned<NameEntry> | undefined> => park(member.get(key)),
    hash: () => member.hash(),
    snapshot: () => member.snapshot(),
  };
}

/** `BAD_REQUEST` naming the argument, for member arguments that cannot form a fleet. */
export function badFleet(message: string, value: unknown): never {
  throw new FosError('BAD_REQUEST', `nameServerMember: ${message}`, { value });
}
