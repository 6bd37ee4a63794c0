// The replicated store bound to fos: one store mailbox per name-service member (thesis §4.4.1: the data
// store registers its own internal mailbox), store messages carried as one-way dispatcher messages, and
// the members' mailbox addresses learned from the messages themselves. An incoming store message steps
// the member's core at once, in the mailbox handler; what the core sends waits in an outbox per peer,
// which one sending thread per peer empties in order.
import { ReplicatedMember, type MemberName, type StoreMessage } from '@fos/distributed-store';
import type { Libfos } from '@fos/libfos-messaging';
import { assert, FosError, hasFosErrorCode } from '@fos/base';
import type { Capability, MailboxLocation } from '@fos/microkernel';
import type { NameEntry } from './entry.js';

/** Where a member's store mailbox is: what the other members send store messages to. */
export type StoreAddress = {
  readonly member: MemberName;
  readonly name: string;
  readonly location: MailboxLocation;
  readonly capability: string;
};

/** A store message as it travels: the sender's address, and on membership messages every address known. */
type StoreEnvelope = {
  readonly store: StoreMessage<NameEntry>;
  readonly from: StoreAddress;
  readonly book?: StoreAddress[];
};

/** The kernel name of a member's store mailbox. */
export function storeMailboxName(member: MemberName): string {
  return `/sys/ns-store/${member}`;
}

/** A bound member: its replicated store, and the address of its store mailbox. */
export type BoundStore = {
  readonly member: ReplicatedMember<NameEntry>;
  readonly address: StoreAddress;
  learn(address: StoreAddress): void;
};

/**
 * Creates the store mailbox of member `name` in `libfos`'s process, serves it, and returns the
 * replicated store member (`joining` for a member that will `join` a running fleet). The member's
 * operations park the calling dispatcher thread while they wait (outside a thread, they are plain
 * promises).
 */
export async function bindReplicatedStore(
  libfos: Libfos,
  name: MemberName,
  joining: boolean,
  log: (line: string) => void,
): Promise<BoundStore> {
  const mailbox = await libfos.createMailbox();
  const mailboxName = storeMailboxName(name);
  await libfos.context.kernel.addName(mailbox.location, mailboxName);
  const own: StoreAddress = {
    member: name,
    name: mailboxName,
    location: mailbox.location,
    capability: mailbox.capability,
  };
  const book = new Map<MemberName, StoreAddress>();
  const learn = (address: StoreAddress): void => {
    if (address.member !== name) book.set(address.member, address);
  };
  const send = outbox(libfos, name, log);
  const member = new ReplicatedMember<NameEntry>({
    name,
    peers: [],
    joining,
    clock: libfos.context.clock,
    park: (promise) => libfos.dispatcher.currentThread?.waitFor(promise) ?? promise,
    transport: {
      send: (to, message) => {
        const address = book.get(to);
        assert(address !== undefined, `member ${name} knows the store mailbox of ${to}`);
        const carriesBook =
          message.kind === 'install' || message.kind === 'members' || message.kind === 'membershipRequest';
        send(
          address,
          carriesBook ? { store: message, from: own, book: [...book.values()] } : { store: message, from: own },
        );
      },
    },
  });
  libfos.serve(mailbox.location, {
    handler: (request) => {
      const envelope = request.body as unknown as StoreEnvelope;
      if (
        typeof envelope !== 'object' ||
        envelope === null ||
        typeof envelope.from?.member !== 'string' ||
        typeof envelope.store?.kind !== 'string'
      ) {
        log(`name-service store ${name}: dropped a malformed store message from ${request.sender.process}`);
        return undefined;
      }
      learn(envelope.from);
      for (const address of envelope.book ?? []) learn(address);
      // Synchronous: the core takes the message and hands what it sends to the outbox; nothing waits here.
      member.receive(envelope.from.member, envelope.store);
      return undefined;
    },
  });
  return { member, address: own, learn };
}

/**
 * Store messages to each peer wait in a queue of their own, which one thread per peer (started when the
 * queue fills, ended when it is empty) sends in order: the per-pair order the protocol needs, without a
 * thread per message, and a slow peer holds up no other.
 */
function outbox(
  libfos: Libfos,
  name: MemberName,
  log: (line: string) => void,
): (address: StoreAddress, envelope: StoreEnvelope) => void {
  type Outgoing = { readonly address: StoreAddress; readonly envelope: StoreEnvelope };
  const queues = new Map<MemberName, Outgoing[]>();
  const drain = (member: MemberName, queue: Outgoing[]): void => {
    const done = (): void => {
      if (queues.get(member) === queue) queues.delete(member);
    };
    void libfos.dispatcher
      .spawnThread('store-send', async (thread) => {
        for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
          const { address, envelope } = next;
          try {
            await thread.send(
              { name: address.name, location: address.location, capability: address.capability as Capability },
              envelope,
            );
          } catch (error) {
            // At shutdown, what is still in flight goes nowhere; so does the answer to a member that has
            // left and gone with its machine (membershipDone after a leave). Anything else is worth a line.
            const leaverGone = envelope.store.kind === 'membershipDone' && hasFosErrorCode(error, 'UNREACHABLE');
            if (!hasFosErrorCode(error, 'SHUTDOWN') && !leaverGone)
              log(
                `name-service store ${name}: a ${envelope.store.kind} to ${member} was not delivered: ${String(error)}`,
              );
          }
        }
        done();
      })
      .catch((error: unknown) => {
        done();
        if (!hasFosErrorCode(error, 'SHUTDOWN'))
          log(`name-service store ${name}: the sender to ${member} stopped: ${String(error)}`);
      });
  };
  return (address, envelope) => {
    const queued = queues.get(address.member);
    if (queued !== undefined) {
      queued.push({ address, envelope });
      return;
    }
    const queue = [{ address, envelope }];
    queues.set(address.member, queue);
    drain(address.member, queue);
  };
}

/** `BAD_REQUEST` naming the argument, for member arguments that cannot form a fleet. */
export function badFleet(message: string, value: unknown): never {
  throw new FosError('BAD_REQUEST', `nameServerMember: ${message}`, { value });
}
