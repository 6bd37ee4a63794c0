// A member of the netstack fleet (/sys/netstack/<n>, a destination of the indirect name /sys/netstack).
// It owns the state of the connections it took: their receive buffers with flow control in bytes, the
// pushes to the owning process, half-close, reset and the end of each. It shares nothing with the
// other members: each connection it takes is registered as `/sys/netstack/connections/<id>` → this
// member, so netif and the owning process reach it by that name, and the name goes when the
// connection ends, whichever way it ends.
import { FosError, hasFosErrorCode, type MessageBody } from '@fos/base';
import type { Thread } from '@fos/dispatcher';
import { createLibfos, type Libfos } from '@fos/libfos-messaging';
import {
  isCapability,
  validateCapability,
  type Capability,
  type MailboxLocation,
  type ProcessContext,
} from '@fos/microkernel';
import { z } from 'zod';
import { netError } from './errors.js';
import {
  netConnectionsPerAlias,
  netConnectionsPerMemberMax,
  netMemberAliases,
  netLeaveGraceMsDefault,
  netLeaveGraceMsMax,
  netReceiveBufferBytes,
  netReceiveWindowBytes,
  netRegisterAttemptsMax,
  netRegisterBackoffMs,
} from './limits.js';
import { connectionName, netstackFleetName } from './names.js';
import {
  memberRequestSchema,
  parseRequest,
  type ConnectResult,
  type MemberRequest,
  type NetMemberInfo,
} from './protocol.js';

const capabilitySchema = z.custom<Capability>((value) => isCapability(value), 'is not a capability');
const nameSchema = z.string().min(1).max(255);

const memberArgsSchema = z.strictObject({
  /** This member's direct name (`/sys/netstack/<n>`). */
  member: nameSchema,
  /** The fleet's indirect name (default `/sys/netstack`). */
  fleet: nameSchema.optional(),
  /** The netif of this member's machine: where its listens and outbound connections go by default. */
  netif: nameSchema,
  /** A namespace capability that covers the member's name, the fleet's, and the connections' names. */
  capability: capabilitySchema,
  /** Weight of this member in the fleet's indirect name (default 1). */
  weight: z.number().int().min(1).max(1000).optional(),
  /** How long a leaving member lets its connections finish (default {@link netLeaveGraceMsDefault}). */
  leaveGraceMs: z.number().int().min(0).max(netLeaveGraceMsMax).optional(),
  /**
   * Tests: how long the member waits before it registers a taken connection's name (segments then
   * wait at netif, in order).
   */
  registerDelayMs: z.number().int().min(0).max(60_000).optional(),
});

/** What {@link netstackMember} takes. */
export type NetstackMemberArgs = z.infer<typeof memberArgsSchema>;

/** What {@link netstackMember} returns to its spawner. */
export type NetstackMemberResult = { readonly member: string; readonly location: MailboxLocation };

/** A mailbox of the member with its direct name. */
type RegisteredMailbox = { readonly location: MailboxLocation; readonly name: string; readonly capability: Capability };

/** One connection as its member holds it. */
type Connection = {
  readonly id: string;
  readonly name: string;
  /** The netif that holds its host socket. */
  readonly netif: string;
  /** The alias of this member its name leads to (an index of the member's aliases). */
  readonly alias: number;
  /** The socket endpoint of the owning process (where bytes are pushed). */
  readonly endpoint: string;
  /** The number of the next segment from netif. */
  nextSeq: number;
  /** Received, not yet pushed. */
  readonly buffer: Uint8Array[];
  bufferBytes: number;
  /** Pushed, not yet acknowledged by the owning process. */
  inFlight: number;
  /** The owning process knows the connection (pushes may start). */
  attached: boolean;
  /** The peer half-closed (pushed once the buffer is out). */
  eof: boolean;
  eofPushed: boolean;
  /** The host socket is gone: how (pushed once the buffer is out). */
  closed: { readonly error: string | undefined } | undefined;
  /** The member asked netif to stop reading the host socket. */
  pausedWire: boolean;
  /** The connection's state is gone here (its name is being unregistered). */
  ended: boolean;
};

/**
 * A netstack member, as a process entry (`entry: 'netstackMember'`, every fabric): registers
 * `args.member`, joins `args.fleet`, and serves netif's hand-overs and segments and the sockets'
 * requests (`listen`, `unlisten`, `connect`, `send`, `ack`, `shutdown`, `close`), `info` and `leave`.
 */
export async function netstackMember(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const parsed = parseRequest('netstackMember', memberArgsSchema, args);
  const libfos = await createLibfos(context);
  const member = new NetstackMember(context, libfos, parsed);
  const serve = async (name: string) => {
    const mailbox = await libfos.createMailbox();
    libfos.serve(mailbox.location, { handler: (request, thread) => member.handle(request.body, thread) });
    return {
      location: mailbox.location,
      name,
      capability: await libfos.aliasRegisterDirect(name, mailbox, parsed.capability),
    };
  };
  const main = await serve(parsed.member);
  const aliases: RegisteredMailbox[] = [];
  for (const alias of memberAliases(parsed.member)) aliases.push(await serve(alias));
  await libfos.aliasRegisterIndirect(parsed.fleet ?? netstackFleetName, parsed.member, parsed.capability, {
    weight: parsed.weight ?? 1,
  });
  member.registered([main, ...aliases]);
  const result: NetstackMemberResult = { member: parsed.member, location: main.location };
  return { ...result };
}

/** A member's aliases: `<member>/c0` .. `<member>/c<netMemberAliases - 1>`. */
export function memberAliases(member: string): string[] {
  return Array.from({ length: netMemberAliases }, (_, index) => `${member}/c${index}`);
}

class NetstackMember {
  readonly #connections = new Map<string, Connection>();
  readonly #fleet: string;
  #leaving = false;
  /** The member's mailbox and its aliases' mailboxes, with their names' capabilities. */
  #mailboxes: RegisteredMailbox[] = [];
  readonly #aliases: string[];
  /** Per alias: its registrations and unregistrations, one at a time. */
  readonly #aliasQueues: Promise<unknown>[];
  /** Per alias: the connections whose names lead to it. */
  readonly #aliasLoad: number[];
  #taken = 0;
  #ended = 0;
  #segments = 0;
  #outOfOrder = 0;

  constructor(
    private readonly context: ProcessContext,
    private readonly libfos: Libfos,
    private readonly args: NetstackMemberArgs,
  ) {
    this.#fleet = args.fleet ?? netstackFleetName;
    this.#aliases = memberAliases(args.member);
    this.#aliasQueues = this.#aliases.map(() => Promise.resolve());
    this.#aliasLoad = this.#aliases.map(() => 0);
  }

  registered(mailboxes: RegisteredMailbox[]): void {
    this.#mailboxes = mailboxes;
  }

  /** Runs a change of a connection's name in its alias's queue, in a thread of its own. */
  #nameChange(connection: Connection, change: (alias: string) => Promise<void>): Promise<void> {
    const index = connection.alias;
    const alias = this.#aliases[index] as string;
    const run = (this.#aliasQueues[index] as Promise<unknown>).then(() =>
      this.libfos.dispatcher.spawnThread('connection-name', () => change(alias)),
    );
    this.#aliasQueues[index] = run.catch(() => undefined);
    return run;
  }

  async handle(body: MessageBody, thread: Thread): Promise<MessageBody> {
    const request = parseRequest(`netstack member ${this.args.member}`, memberRequestSchema, body);
    switch (request.op) {
      // Segments and acknowledgements change state at once, in the order they arrive (no await
      // before the change: a later message's thread cannot overtake).
      case 'data':
      case 'eof':
      case 'closed':
        this.#segment(request);
        return null;
      case 'ack': {
        const connection = this.#connections.get(request.conn);
        if (connection !== undefined) {
          connection.inFlight = Math.max(0, connection.inFlight - request.bytes);
          this.#pump(connection);
        }
        return null;
      }
      case 'attach': {
        const connection = this.#connections.get(request.conn);
        if (connection !== undefined && !connection.attached) {
          connection.attached = true;
          this.#pump(connection);
        }
        return null;
      }
      case 'incoming':
        return this.#incoming(request, thread);
      case 'listen':
      case 'unlisten': {
        this.#refuseWhileLeaving(request.op);
        const { endpoint, netif, ...rest } = request;
        return (await this.libfos.call(netif ?? this.args.netif, { ...rest, listener: endpoint })).body;
      }
      case 'connect':
        return this.#connect(request.host, request.port, request.endpoint, request.netif ?? this.args.netif, thread);
      case 'send': {
        const connection = this.#connections.get(request.conn);
        if (connection === undefined || connection.ended || connection.closed !== undefined)
          throw netError('EPIPE', `send: connection ${request.conn} is closed at ${this.args.member}`, request.conn);
        return (await this.libfos.call(connection.netif, { op: 'write', conn: connection.id, bytes: request.bytes }))
          .body;
      }
      case 'shutdown': {
        const connection = this.#connections.get(request.conn);
        // Ended already: nothing is left to half-close.
        if (connection === undefined || connection.ended || connection.closed !== undefined) return null;
        return (await this.libfos.call(connection.netif, { op: 'end', conn: connection.id })).body;
      }
      case 'close': {
        // The owner is done with the connection: what is buffered goes, the host socket is reset
        // (when it is still open), the name goes. A close is never an error.
        const connection = this.#connections.get(request.conn);
        if (connection === undefined || connection.ended) return null;
        if (connection.closed === undefined) this.#toNetif(connection, 'destroy');
        this.#end(connection);
        return null;
      }
      case 'info':
        return this.#info();
      case 'leave':
        return this.#leave(request.capability);
    }
  }

  #info(): MessageBody {
    const info: NetMemberInfo = {
      member: this.args.member,
      connections: this.#connections.size,
      taken: this.#taken,
      ended: this.#ended,
      segments: this.#segments,
      outOfOrder: this.#outOfOrder,
      pausedWire: [...this.#connections.values()].filter((connection) => connection.pausedWire).length,
    };
    return { ...info };
  }

  #refuseWhileLeaving(operation: string): void {
    if (this.#leaving)
      throw new FosError('SHUTDOWN', `${operation}: netstack member ${this.args.member} is leaving the fleet`, {
        value: this.args.member,
      });
  }

  /** netif hands a connection over: its name is registered, its listener told; then it is answered. */
  async #incoming(request: Extract<MemberRequest, { op: 'incoming' }>, thread: Thread): Promise<MessageBody> {
    this.#refuseWhileLeaving('incoming');
    const connection = this.#create(request.conn, request.netif, request.listener);
    try {
      await this.#register(connection, thread);
      await this.libfos.call(request.listener, {
        op: 'incoming',
        conn: request.conn,
        port: request.local.port,
        local: request.local,
        remote: request.remote,
      });
    } catch (error) {
      this.#end(connection);
      // The listening process is gone (it ended without closing its server): its port is freed.
      if (hasFosErrorCode(error, 'UNREACHABLE') || hasFosErrorCode(error, 'NO_SUCH_NAME'))
        await this.libfos
          .call(request.netif, { op: 'unlisten', port: request.local.port, listener: request.listener })
          .catch(() => undefined);
      throw netError(
        'ECONNREFUSED',
        `connection ${request.conn} to port ${request.local.port} was not taken: ${(error as Error).message}`,
        request.conn,
      );
    }
    connection.attached = true;
    this.#pump(connection);
    return null;
  }

  /** An outbound connection: netif opens it, this member registers its name, then netif may send segments. */
  async #connect(host: string, port: number, endpoint: string, netif: string, thread: Thread): Promise<MessageBody> {
    this.#refuseWhileLeaving('connect');
    const opened = (await this.libfos.call(netif, { op: 'connect', host, port })).body as ConnectResult;
    const connection = this.#create(opened.conn, netif, endpoint);
    try {
      await this.#register(connection, thread);
    } catch (error) {
      this.#end(connection);
      await this.libfos.send(netif, { op: 'destroy', conn: opened.conn }).catch(() => undefined);
      throw error;
    }
    // Pushes start when the owner says it holds the connection (`attach`): its answer and the first
    // push travel to different mailboxes of it, in no fixed order.
    await this.libfos.send(netif, { op: 'ready', conn: opened.conn });
    const result: ConnectResult = { conn: opened.conn, local: opened.local, remote: opened.remote };
    return { ...result, local: { ...result.local }, remote: { ...result.remote } };
  }

  #create(id: string, netif: string, endpoint: string): Connection {
    if (this.#connections.has(id))
      throw netError('ECONNREFUSED', `connection ${id} is held at ${this.args.member} already`, id);
    // The least loaded alias (its mailbox has room for the connection's name).
    let alias = 0;
    for (let index = 1; index < this.#aliasLoad.length; index++)
      if ((this.#aliasLoad[index] as number) < (this.#aliasLoad[alias] as number)) alias = index;
    if ((this.#aliasLoad[alias] as number) >= netConnectionsPerAlias)
      throw netError(
        'EMFILE',
        `${this.args.member} holds netConnectionsPerMemberMax (${netConnectionsPerMemberMax}) connections`,
        id,
      );
    this.#aliasLoad[alias] = (this.#aliasLoad[alias] as number) + 1;
    const connection: Connection = {
      id,
      name: connectionName(id),
      netif,
      alias,
      endpoint,
      nextSeq: 0,
      buffer: [],
      bufferBytes: 0,
      inFlight: 0,
      attached: false,
      eof: false,
      eofPushed: false,
      closed: undefined,
      pausedWire: false,
      ended: false,
    };
    this.#connections.set(id, connection);
    this.#taken++;
    return connection;
  }

  /**
   * Registers the connection's name → this member. A name still taken by an earlier connection of the
   * same 4-tuple (its end not yet unregistered) is tried again a few times.
   */
  async #register(connection: Connection, thread: Thread): Promise<void> {
    if (this.args.registerDelayMs !== undefined) await thread.sleep(this.args.registerDelayMs);
    await thread.waitFor(
      this.#nameChange(connection, async (alias) => {
        for (let attempt = 1; ; attempt++) {
          try {
            await this.libfos.aliasRegisterIndirect(connection.name, alias, this.args.capability);
            return;
          } catch (error) {
            if (!hasFosErrorCode(error, 'NAME_EXISTS') || attempt >= netRegisterAttemptsMax) throw error;
            await this.libfos.dispatcher.currentThread?.sleep(netRegisterBackoffMs * 2 ** attempt);
          }
        }
      }),
    );
  }

  /** A segment from netif, in order; a gap (never expected: libfos keeps the order) resets the connection. */
  #segment(request: Extract<MemberRequest, { op: 'data' | 'eof' | 'closed' }>): void {
    const connection = this.#connections.get(request.conn);
    if (connection === undefined || connection.ended) return;
    this.#segments++;
    if (request.seq !== connection.nextSeq) {
      this.#outOfOrder++;
      connection.closed ??= {
        error: `segment ${request.seq} of connection ${request.conn} arrived where ${connection.nextSeq} was due`,
      };
      this.#toNetif(connection, 'destroy');
      this.#pump(connection);
      return;
    }
    connection.nextSeq++;
    if (request.op === 'data') {
      connection.buffer.push(request.bytes);
      connection.bufferBytes += request.bytes.length;
    } else if (request.op === 'eof') connection.eof = true;
    else connection.closed ??= { error: request.error };
    this.#pump(connection);
  }

  /**
   * Pushes what the window allows to the owning process, then the half-close and the end once the
   * buffer is out, and pauses or resumes the host socket by the buffer's size.
   */
  #pump(connection: Connection): void {
    if (connection.ended || !connection.attached) return;
    while (connection.buffer.length > 0 && connection.inFlight < netReceiveWindowBytes) {
      const bytes = connection.buffer.shift() as Uint8Array;
      connection.bufferBytes -= bytes.length;
      connection.inFlight += bytes.length;
      this.#push(connection, { op: 'data', conn: connection.id, bytes });
    }
    if (connection.closed === undefined) {
      if (!connection.pausedWire && connection.bufferBytes > netReceiveBufferBytes) {
        connection.pausedWire = true;
        this.#toNetif(connection, 'pause');
      } else if (connection.pausedWire && connection.bufferBytes <= netReceiveBufferBytes / 2) {
        connection.pausedWire = false;
        this.#toNetif(connection, 'resume');
      }
    }
    if (connection.buffer.length > 0) return;
    if (connection.eof && !connection.eofPushed) {
      connection.eofPushed = true;
      this.#push(connection, { op: 'eof', conn: connection.id });
    }
    if (connection.closed !== undefined) {
      const error = connection.closed.error;
      this.#push(
        connection,
        error === undefined ? { op: 'closed', conn: connection.id } : { op: 'closed', conn: connection.id, error },
      );
      this.#end(connection);
    }
  }

  /** One push to the owning process; when it cannot be delivered (the process is gone), the connection is reset. */
  #push(connection: Connection, message: MessageBody): void {
    void this.libfos.dispatcher
      .spawnThread('push', () => this.libfos.send(connection.endpoint, message))
      .catch(() => {
        if (!connection.ended) this.#toNetif(connection, 'destroy');
      });
  }

  #toNetif(connection: Connection, op: 'pause' | 'resume' | 'destroy'): void {
    void this.libfos.dispatcher
      .spawnThread('netif', () => this.libfos.send(connection.netif, { op, conn: connection.id }))
      .catch(() => undefined);
  }

  /** The connection's state goes, and its name. */
  #end(connection: Connection): void {
    if (connection.ended) return;
    connection.ended = true;
    connection.buffer.length = 0;
    this.#connections.delete(connection.id);
    this.#ended++;
    void this.#nameChange(connection, (alias) =>
      this.libfos.unregisterIndirect(connection.name, alias, this.args.capability),
    )
      .catch(() => undefined)
      .finally(() => (this.#aliasLoad[connection.alias] = (this.#aliasLoad[connection.alias] as number) - 1));
  }

  /**
   * Leaves the fleet: out of `/sys/netstack` at once (new connections go to the others), then its
   * connections have `leaveGraceMs` to finish; those still open are reset (their owners see
   * `ECONNABORTED`), their names go, and the process exits.
   */
  async #leave(capability: Capability): Promise<MessageBody> {
    if (validateCapability(capability) !== this.args.capability)
      throw new FosError(
        'PERMISSION_DENIED',
        `leave: the capability does not match netstack member ${this.args.member}'s`,
        {
          value: 'capability',
        },
      );
    if (this.#leaving) return { member: this.args.member, connections: this.#connections.size };
    this.#leaving = true;
    await this.libfos.unregisterIndirect(this.#fleet, this.args.member, this.args.capability);
    const open = this.#connections.size;
    this.context.clock.setTimer(this.args.leaveGraceMs ?? netLeaveGraceMsDefault, () =>
      this.context.guard(() => this.#abortAll()),
    );
    return { member: this.args.member, connections: open };
  }

  async #abortAll(): Promise<void> {
    for (const connection of [...this.#connections.values()]) {
      connection.closed ??= { error: `ECONNABORTED: netstack member ${this.args.member} left the fleet` };
      connection.buffer.length = 0;
      connection.bufferBytes = 0;
      connection.attached = true;
      this.#toNetif(connection, 'destroy');
      this.#pump(connection);
    }
    // The member's names go, and with its aliases every connection name still leading to them.
    await this.libfos.dispatcher.spawnThread('leave', async () => {
      for (const mailbox of this.#mailboxes)
        await this.libfos.unregisterDirect(mailbox.name, mailbox.location, mailbox.capability).catch(() => undefined);
    });
    // The last pushes and unregistrations finish before the process goes.
    this.context.clock.setTimer(200, () =>
      this.context.guard(async () => {
        await this.libfos.close();
        this.context.exit();
      }),
    );
  }
}
