// The proxy process of one machine (thesis §2.2, the third delivery mechanism). It attaches to its
// kernel as the machine's proxy, so every send of this machine to a mailbox of another machine reaches
// it; it keeps one connection per other machine (an authenticated `ByteLink`), carries each send there
// as a `deliver` frame and hands the answer back to its kernel. What another machine sends it hands to
// its own kernel, which makes the checks of a local send, and carries that answer back.
//
// Trust: a connection is authenticated by its transport (the cluster key); the proxy then believes the
// peer's kernel about its own senders, and nothing else: a `deliver` must name a sender of the peer's
// machine and a mailbox of this one, an `answer` must answer a send this proxy carried to that peer.
// Anything else is a protocol fault: the connection closes with a logged reason, nothing of the
// offending frame is delivered.
import { decodeBody, encodeBody, FosError, isFosError, messageBytesMax } from '@fos/base';
import {
  formatLocation,
  type Capability,
  type ForwardedMessage,
  type ProcessContext,
  type ProxyAttachment,
} from '@fos/microkernel';
import {
  encodeFrame,
  FrameReader,
  proxyProtocolVersion,
  type AliasFrame,
  type AnswerFrame,
  type AskFrame,
  type DeliverFrame,
  type Frame,
  type HelloFrame,
  type ReplyFrame,
  type SkipFrame,
} from './frames.js';
import type { ByteLink } from './link.js';
import {
  proxyAsksInFlightMax,
  proxyAskTimeoutMs,
  proxyBufferedBytesMax,
  proxyConnectionsMax,
  proxyDeliveriesInFlightMax,
  proxyHelloTimeoutMs,
  type Proxy,
  type ProxyOptions,
  type ProxyPeer,
  type ProxyQuestionHandler,
  type ProxyStats,
} from './proxy-api.js';

interface Connection {
  readonly link: ByteLink;
  readonly reader: FrameReader;
  peer: ProxyPeer | undefined;
  /** Forward ids this proxy carried over this connection and not yet answered. */
  readonly outstanding: Set<number>;
  /** Deliveries from the peer handed to the kernel and not yet answered. */
  inFlight: number;
  paused: boolean;
  /** Frames written in this turn, sent together. */
  readonly outgoing: Uint8Array[];
  flushScheduled: boolean;
  closed: boolean;
  readonly introduced: { resolve: (peer: ProxyPeer) => void; reject: (error: FosError) => void };
  helloTimer: { cancel(): void } | undefined;
  /** This proxy's questions on this connection, by id, waiting for their replies. */
  readonly asked: Map<number, PendingQuestion>;
  nextQuestion: number;
  /** The peer's questions being answered here. */
  answering: number;
}

interface PendingQuestion {
  readonly resolve: (reply: unknown) => void;
  readonly reject: (error: FosError) => void;
  readonly timer: { cancel(): void };
}

/** Attaches `context`'s process as its machine's proxy (kernel capability checked by the kernel). */
export async function startProxy(context: ProcessContext, options: ProxyOptions): Promise<Proxy> {
  const node = new ProxyNode(context, options);
  await node.attach(options.kernelCapability);
  // The process ended (exit, kill, crash, machine shutdown): its connections go with it.
  void context.exited.then(() => node.close());
  return node;
}

/** The refusal text without the `CODE: ` prefix the FosError constructor adds again on the other side. */
function bareMessage(error: FosError): string {
  return error.message.startsWith(`${error.code}: `) ? error.message.slice(error.code.length + 2) : error.message;
}

class ProxyNode implements Proxy {
  readonly machine: string;
  readonly #context: ProcessContext;
  readonly #bytesMax: number;
  readonly #log: (line: string) => void;
  readonly #listen: string | null;
  readonly #onQuestion: ProxyQuestionHandler | undefined;
  readonly #connections = new Set<Connection>();
  readonly #byMachine = new Map<string, Connection>();
  #attachment: ProxyAttachment | undefined;
  #forwarded = 0;
  #delivered = 0;
  #refusedFrames = 0;
  #closing = false;

  constructor(context: ProcessContext, options: ProxyOptions) {
    this.#context = context;
    this.machine = context.machine;
    this.#bytesMax = options.bytesMax ?? messageBytesMax;
    this.#log = options.log ?? (() => {});
    this.#listen = options.listen ?? null;
    this.#onQuestion = options.onQuestion;
  }

  async attach(kernelCapability: Capability): Promise<void> {
    this.#attachment = await this.#context.kernel.ukProxyAttach(kernelCapability, (message) =>
      this.#onForward(message),
    );
  }

  get #kernel(): ProxyAttachment {
    const attachment = this.#attachment;
    if (attachment === undefined) throw new FosError('SHUTDOWN', `the proxy of ${this.machine} is not attached`);
    return attachment;
  }

  addLink(link: ByteLink): Promise<ProxyPeer> {
    return new Promise<ProxyPeer>((resolve, reject) => {
      if (this.#closing || this.#connections.size >= proxyConnectionsMax) {
        const reason = this.#closing
          ? 'the proxy is closing'
          : `the proxy has proxyConnectionsMax (${proxyConnectionsMax}) connections`;
        link.close(reason);
        reject(new FosError(this.#closing ? 'SHUTDOWN' : 'LIMIT_EXCEEDED', reason, { value: link.remote }));
        return;
      }
      const connection: Connection = {
        link,
        reader: new FrameReader(this.#bytesMax),
        peer: undefined,
        outstanding: new Set(),
        inFlight: 0,
        paused: false,
        outgoing: [],
        flushScheduled: false,
        closed: false,
        introduced: { resolve, reject },
        helloTimer: undefined,
        asked: new Map(),
        nextQuestion: 1,
        answering: 0,
      };
      this.#connections.add(connection);
      connection.helloTimer = this.#context.clock.setTimer(proxyHelloTimeoutMs, () =>
        this.#fault(connection, `no hello within proxyHelloTimeoutMs (${proxyHelloTimeoutMs} ms)`),
      );
      link.open({
        data: (chunk) => this.#onData(connection, chunk),
        drain: () => {},
        closed: (reason) => this.#closeConnection(connection, reason),
      });
      this.#send(connection, {
        type: 'hello',
        protocol: proxyProtocolVersion,
        machine: this.machine,
        listen: this.#listen,
      });
    });
  }

  ask(machine: string, topic: string, question: unknown): Promise<unknown> {
    const connection = this.#byMachine.get(machine);
    if (connection === undefined)
      return Promise.reject(
        new FosError('UNREACHABLE', `machine ${machine} is not connected to ${this.machine}`, { value: machine }),
      );
    if (connection.asked.size >= proxyAsksInFlightMax)
      return Promise.reject(
        new FosError(
          'LIMIT_EXCEEDED',
          `${proxyAsksInFlightMax} questions (proxyAsksInFlightMax) to machine ${machine} are unanswered`,
          { value: machine },
        ),
      );
    let body: Uint8Array;
    try {
      body = encodeBody(question, this.#bytesMax);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const id = connection.nextQuestion++;
    return new Promise<unknown>((resolve, reject) => {
      const timer = this.#context.clock.setTimer(proxyAskTimeoutMs, () => {
        connection.asked.delete(id);
        reject(
          new FosError(
            'TIMEOUT',
            `machine ${machine} did not answer ${topic} within proxyAskTimeoutMs (${proxyAskTimeoutMs} ms)`,
            { value: topic },
          ),
        );
      });
      connection.asked.set(id, { resolve, reject, timer });
      this.#send(connection, { type: 'ask', id, topic, body });
    });
  }

  peers(): ProxyPeer[] {
    return [...this.#byMachine.values()].flatMap((connection) =>
      connection.peer === undefined ? [] : [connection.peer],
    );
  }

  stats(): ProxyStats {
    return {
      connections: this.#connections.size,
      forwarded: this.#forwarded,
      delivered: this.#delivered,
      refusedFrames: this.#refusedFrames,
    };
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    await this.#attachment?.detach();
    for (const connection of [...this.#connections]) this.#closeConnection(connection, 'the proxy closed');
  }

  // ---- writing ---------------------------------------------------------------------------------------

  #send(connection: Connection, frame: Frame): void {
    if (connection.closed) return;
    connection.outgoing.push(encodeFrame(frame, this.#bytesMax));
    if (connection.flushScheduled) return;
    connection.flushScheduled = true;
    // Frames of one turn go out in one write; a lone round trip waits for no timer.
    queueMicrotask(() => this.#flush(connection));
  }

  #flush(connection: Connection): void {
    connection.flushScheduled = false;
    const chunks = connection.outgoing.splice(0);
    if (connection.closed || chunks.length === 0) return;
    if (chunks.length === 1) {
      connection.link.write(chunks[0]!);
      return;
    }
    let total = 0;
    for (const chunk of chunks) total += chunk.length;
    const batch = new Uint8Array(total);
    let at = 0;
    for (const chunk of chunks) {
      batch.set(chunk, at);
      at += chunk.length;
    }
    connection.link.write(batch);
  }

  // ---- connections ---------------------------------------------------------------------------------------

  #closeConnection(connection: Connection, reason: string, code: 'UNREACHABLE' | 'CONFLICT' = 'UNREACHABLE'): void {
    if (connection.closed) return;
    connection.closed = true;
    connection.helloTimer?.cancel();
    this.#connections.delete(connection);
    const peer = connection.peer;
    const name = peer?.machine ?? connection.link.remote;
    if (peer !== undefined && this.#byMachine.get(peer.machine) === connection) this.#byMachine.delete(peer.machine);
    this.#log(`fos proxy ${this.machine}: connection ${name} closed: ${reason}`);
    // Every send in flight to that machine fails at once; nothing waits for a machine that is gone.
    for (const id of connection.outstanding)
      this.#attachment?.answer(
        id,
        new FosError('UNREACHABLE', `machine ${name} is not connected (${reason})`, { value: peer?.machine }),
      );
    connection.outstanding.clear();
    for (const question of connection.asked.values()) {
      question.timer.cancel();
      question.reject(new FosError(code, `machine ${name} is not connected (${reason})`, { value: name }));
    }
    connection.asked.clear();
    connection.introduced.reject(
      new FosError(code, `connection to ${connection.link.remote} closed: ${reason}`, {
        value: connection.link.remote,
      }),
    );
    connection.link.close(reason);
  }

  #fault(connection: Connection, reason: string): void {
    this.#refusedFrames++;
    this.#closeConnection(connection, `protocol fault: ${reason}`);
  }

  #onData(connection: Connection, chunk: Uint8Array): void {
    if (connection.closed) return;
    let frames: Frame[];
    try {
      frames = connection.reader.push(chunk);
    } catch (error) {
      this.#fault(connection, isFosError(error) ? error.message : 'unreadable frame');
      return;
    }
    for (const frame of frames) {
      if (connection.closed) return;
      this.#onFrame(connection, frame);
    }
  }

  #onHello(connection: Connection, frame: HelloFrame): void {
    const clash =
      frame.protocol !== proxyProtocolVersion
        ? `protocol ${frame.protocol} is not ${proxyProtocolVersion}`
        : frame.machine === this.machine
          ? `machine name ${frame.machine} is this machine's own`
          : this.#byMachine.has(frame.machine)
            ? `machine ${frame.machine} is connected already`
            : undefined;
    if (clash !== undefined) {
      this.#send(connection, { type: 'refuse', reason: clash });
      this.#flush(connection);
      this.#closeConnection(connection, `refused: ${clash}`, 'CONFLICT');
      return;
    }
    connection.helloTimer?.cancel();
    const peer: ProxyPeer = { machine: frame.machine, listen: frame.listen, remote: connection.link.remote };
    connection.peer = peer;
    this.#byMachine.set(peer.machine, connection);
    connection.introduced.resolve(peer);
  }

  #onFrame(connection: Connection, frame: Frame): void {
    const peer = connection.peer;
    if (peer === undefined) {
      if (frame.type === 'hello') this.#onHello(connection, frame);
      else if (frame.type === 'refuse')
        this.#closeConnection(connection, `refused by the other machine: ${frame.reason}`, 'CONFLICT');
      else this.#fault(connection, `a ${frame.type} frame before hello`);
      return;
    }
    switch (frame.type) {
      case 'hello':
        this.#fault(connection, 'a second hello');
        return;
      case 'refuse':
        this.#closeConnection(connection, `refused by ${peer.machine}: ${frame.reason}`, 'CONFLICT');
        return;
      case 'deliver':
        this.#onDeliver(connection, peer, frame);
        return;
      case 'skip':
        this.#onSkip(connection, peer, frame);
        return;
      case 'answer':
        this.#onAnswer(connection, peer, frame);
        return;
      case 'alias':
        this.#onAlias(connection, peer, frame);
        return;
      case 'ask':
        this.#onAsk(connection, peer, frame);
        return;
      case 'reply':
        this.#onReply(connection, peer, frame);
        return;
    }
  }

  // ---- questions between machines ---------------------------------------------------------------------

  #onAsk(connection: Connection, peer: ProxyPeer, frame: AskFrame): void {
    if (connection.answering >= proxyAsksInFlightMax) {
      this.#fault(connection, `more than proxyAsksInFlightMax (${proxyAsksInFlightMax}) questions at once`);
      return;
    }
    connection.answering++;
    const handler = this.#onQuestion;
    void (async () => {
      if (handler === undefined)
        throw new FosError('BAD_REQUEST', `machine ${this.machine} answers no questions (${frame.topic})`, {
          value: frame.topic,
        });
      return handler(peer, frame.topic, decodeBody(frame.body));
    })()
      .then((reply) => ({ type: 'reply' as const, id: frame.id, body: encodeBody(reply, this.#bytesMax) }))
      .catch((error: unknown): ReplyFrame => {
        const refusal = isFosError(error)
          ? error
          : new FosError('BAD_REQUEST', `machine ${this.machine} could not answer ${frame.topic}`, { cause: error });
        return {
          type: 'reply',
          id: frame.id,
          body: new Uint8Array(0),
          error: { code: refusal.code, message: bareMessage(refusal) },
        };
      })
      .then((reply) => {
        connection.answering--;
        this.#send(connection, reply);
      });
  }

  #onReply(connection: Connection, peer: ProxyPeer, frame: ReplyFrame): void {
    const question = connection.asked.get(frame.id);
    if (question === undefined) {
      this.#fault(connection, `a reply to question ${frame.id}, which was not asked of ${peer.machine}`);
      return;
    }
    connection.asked.delete(frame.id);
    question.timer.cancel();
    if (frame.error !== undefined) {
      question.reject(new FosError(frame.error.code, frame.error.message, { value: peer.machine }));
      return;
    }
    try {
      question.resolve(decodeBody(frame.body));
    } catch (error) {
      question.reject(
        isFosError(error) ? error : new FosError('BAD_REQUEST', `an unreadable reply from ${peer.machine}`),
      );
    }
  }

  // ---- the other machine's sends -----------------------------------------------------------------------

  /** A `deliver` or `skip` must come from the peer's machine, an `alias` too; each for a mailbox of this one. */
  #crossesRightly(connection: Connection, peer: ProxyPeer, frame: DeliverFrame | SkipFrame | AliasFrame): boolean {
    const from = frame.type === 'alias' ? peer.machine : frame.sender.machine;
    if (from === peer.machine && frame.location.machine === this.machine) return true;
    this.#fault(connection, `a ${frame.type} from ${from} to ${frame.location.machine} on the link of ${peer.machine}`);
    return false;
  }

  #onAlias(connection: Connection, peer: ProxyPeer, frame: AliasFrame): void {
    if (!this.#crossesRightly(connection, peer, frame)) return;
    this.#startDelivery(connection);
    this.#kernel.alias(frame.operation, frame.location, frame.name).then(
      () => this.#answerDelivery(connection, frame.id, undefined),
      (error: unknown) => this.#answerDelivery(connection, frame.id, error),
    );
  }

  #onDeliver(connection: Connection, peer: ProxyPeer, frame: DeliverFrame): void {
    if (!this.#crossesRightly(connection, peer, frame)) return;
    this.#startDelivery(connection);
    // Called in frame order, and the kernel posts each delivery before `deliver` returns: a stream's
    // order on the wire is its order at the owner's kernel.
    this.#kernel.deliver(frame).then(
      () => this.#answerDelivery(connection, frame.id, undefined),
      (error: unknown) => this.#answerDelivery(connection, frame.id, error),
    );
  }

  /** One more request of the peer at this machine's kernel: past the bound, the connection stops being read. */
  #startDelivery(connection: Connection): void {
    connection.inFlight++;
    if (connection.inFlight >= proxyDeliveriesInFlightMax && !connection.paused) {
      connection.paused = true;
      connection.link.pause();
    }
  }

  #answerDelivery(connection: Connection, id: number, error: unknown): void {
    connection.inFlight--;
    if (connection.paused && connection.inFlight < proxyDeliveriesInFlightMax / 2) {
      connection.paused = false;
      connection.link.resume();
    }
    if (error === undefined) {
      this.#delivered++;
      this.#send(connection, { type: 'answer', id });
      return;
    }
    const refusal = isFosError(error)
      ? error
      : new FosError('UNREACHABLE', `machine ${this.machine} could not deliver it`, { cause: error });
    const sequence = refusal.details.sequence;
    this.#send(connection, {
      type: 'answer',
      id,
      error: { code: refusal.code, message: bareMessage(refusal), ...(sequence === undefined ? {} : { sequence }) },
    });
  }

  #onSkip(connection: Connection, peer: ProxyPeer, frame: SkipFrame): void {
    if (!this.#crossesRightly(connection, peer, frame)) return;
    try {
      this.#kernel.skip(frame.sender, frame.location, frame.sequence);
    } catch (error) {
      // A skip for a mailbox that is gone, say: nothing to fill.
      if (!isFosError(error)) throw error;
    }
  }

  #onAnswer(connection: Connection, peer: ProxyPeer, frame: AnswerFrame): void {
    if (!connection.outstanding.delete(frame.id)) {
      this.#fault(connection, `an answer to ${frame.id}, which was not sent to ${peer.machine}`);
      return;
    }
    const error = frame.error;
    this.#kernel.answer(
      frame.id,
      error === undefined
        ? undefined
        : new FosError(
            error.code,
            error.message,
            error.sequence === undefined ? {} : { details: { sequence: error.sequence } },
          ),
    );
  }

  // ---- this machine's sends -----------------------------------------------------------------------------

  #onForward(message: ForwardedMessage): void {
    const connection = this.#byMachine.get(message.location.machine);
    if (connection === undefined) {
      if (message.kind === 'skip') return;
      throw new FosError(
        'UNREACHABLE',
        `no mailbox at ${formatLocation(message.location)}: machine ${message.location.machine} is not connected to ${this.machine}`,
        { value: message.location },
      );
    }
    if (message.kind === 'skip') {
      this.#send(connection, {
        type: 'skip',
        sender: message.sender,
        location: message.location,
        sequence: message.sequence,
      });
      return;
    }
    if (connection.link.bufferedBytes >= proxyBufferedBytesMax)
      throw new FosError(
        'WOULD_BLOCK',
        `the connection to machine ${message.location.machine} has proxyBufferedBytesMax (${proxyBufferedBytesMax}) bytes waiting`,
        { value: message.location },
      );
    connection.outstanding.add(message.id);
    this.#forwarded++;
    if (message.kind === 'alias') {
      const { id, operation, location, name } = message;
      this.#send(connection, { type: 'alias', id, operation, location, name });
      return;
    }
    // The forwarded record is the frame's content (encodeFrame reads the fields of a DeliverFrame only).
    this.#send(connection, { ...message, type: 'deliver' });
  }
}
