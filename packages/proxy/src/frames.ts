// The proxy's wire format. Every frame is length-prefixed and every size is bounded before anything is
// allocated for it:
//
//   frame   := length:u32be payload                (length = payload bytes, 3 .. frameBytesMax(bytesMax))
//   payload := type:u8 headerLength:u16be header rest
//   header  := a message body (the @fos/base codec) of at most frameHeaderBytesMax bytes, checked
//              against its type's schema; `rest` is the message's bytes for `deliver`, the encoded
//              question or reply for `ask` and `reply`, empty otherwise
//
// A frame that breaks any of this (an unknown type, a header that does not decode or fit its schema,
// a length past the bound, bytes after a non-`deliver` header) is refused with a `FosError`: the
// connection that carried it is closed, nothing of it is delivered.
import { z } from 'zod';
import { decodeBody, describeValue, encodeBody, FosError, fosErrorCodes, type FosErrorCode } from '@fos/base';
import type { ForeignDelivery, MailboxLocation, SenderIdentity } from '@fos/microkernel';

/** Bytes of a frame's header at most (names, capability, identities: far below it). */
export const frameHeaderBytesMax = 2048;

/** The protocol version a `hello` carries; a peer speaking another one is refused. */
export const proxyProtocolVersion = 1;

/** Bytes of the prefix that gives a frame's length. */
const lengthBytes = 4;
/** Bytes of the type and the header's length. */
const payloadPrefixBytes = 3;

/** The largest frame payload for messages of at most `bytesMax` bytes. */
export function framePayloadBytesMax(bytesMax: number): number {
  return payloadPrefixBytes + frameHeaderBytesMax + bytesMax;
}

/** The first frame each side of a connection sends: who it is and where it accepts connections. */
export interface HelloFrame {
  readonly type: 'hello';
  readonly protocol: number;
  readonly machine: string;
  /** `host:port` where this machine accepts proxy connections; null when it accepts none. */
  readonly listen: string | null;
}

/** A send of the peer's machine for a mailbox of this one, answered by an `answer` with the same id. */
export type DeliverFrame = ForeignDelivery & { readonly type: 'deliver'; readonly id: number };

/** An abandoned send of the peer's machine: the stream may move past `sequence`. */
export interface SkipFrame {
  readonly type: 'skip';
  readonly sender: SenderIdentity;
  readonly location: MailboxLocation;
  readonly sequence: number;
}

/**
 * An alias edit of the peer's name service for a mailbox of this machine (`ukAddAlias` /
 * `ukRemoveAlias`, checked on the peer's machine), answered by an `answer` with the same id.
 */
export interface AliasFrame {
  readonly type: 'alias';
  readonly id: number;
  readonly operation: 'add' | 'remove';
  readonly location: MailboxLocation;
  readonly name: string;
}

/** The destination kernel's answer to a `deliver` or an `alias`: accepted (no error) or refused. */
export interface AnswerFrame {
  readonly type: 'answer';
  readonly id: number;
  readonly error?: { readonly code: FosErrorCode; readonly message: string; readonly sequence?: number };
}

/** Why the sender is about to close the connection (a clash of machine names, say). */
export interface RefuseFrame {
  readonly type: 'refuse';
  readonly reason: string;
}

/**
 * A question for the peer's machine itself, not for a mailbox (joining an instance, say): `topic` says
 * which, `body` is the question encoded with the @fos/base codec. Answered by a `reply` with the same id.
 */
export interface AskFrame {
  readonly type: 'ask';
  readonly id: number;
  readonly topic: string;
  readonly body: Uint8Array;
}

/** The answer to an `ask`: its encoded reply, or the refusal. */
export interface ReplyFrame {
  readonly type: 'reply';
  readonly id: number;
  /** The encoded reply (empty with an error). */
  readonly body: Uint8Array;
  readonly error?: { readonly code: FosErrorCode; readonly message: string };
}

/** Every frame of the protocol. */
export type Frame =
  HelloFrame | DeliverFrame | SkipFrame | AnswerFrame | RefuseFrame | AskFrame | ReplyFrame | AliasFrame;

const typeCodes = { hello: 1, deliver: 2, skip: 3, answer: 4, refuse: 5, ask: 6, reply: 7, alias: 8 } as const;
const typeNames = ['', 'hello', 'deliver', 'skip', 'answer', 'refuse', 'ask', 'reply', 'alias'] as const;

/** Frame types whose bytes after the header are theirs (a message, a question, a reply). */
const typesWithBytes = new Set<Frame['type']>(['deliver', 'ask', 'reply']);

/** Machine names as `Machine` accepts them. */
export const machineNameSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const text = (max: number) => z.string().min(1).max(max);
const identityFields = [machineNameSchema, count, text(200), machineNameSchema, count, count.min(1)] as const;

const helloSchema = z.tuple([z.literal('fos-proxy'), count, machineNameSchema, text(300).nullable()]);
const deliverSchema = z.tuple([count, ...identityFields, text(255), text(64), count]);
const skipSchema = z.tuple([...identityFields, count]);
const answerSchema = z.union([
  z.tuple([count]),
  z.tuple([count, z.enum(fosErrorCodes), z.string().max(1000), count.nullable()]),
]);
const refuseSchema = z.tuple([z.string().max(1000)]);
const askSchema = z.tuple([count, text(64)]);
const aliasSchema = z.tuple([count, z.enum(['add', 'remove']), machineNameSchema, count, count.min(1), text(255)]);
const replySchema = z.union([z.tuple([count]), z.tuple([count, z.enum(fosErrorCodes), z.string().max(1000)])]);

function identityOf(fields: readonly unknown[], at: number): { sender: SenderIdentity; location: MailboxLocation } {
  return {
    sender: { machine: fields[at] as string, core: fields[at + 1] as number, process: fields[at + 2] as string },
    location: { machine: fields[at + 3] as string, core: fields[at + 4] as number, mailbox: fields[at + 5] as number },
  };
}

function identityFieldsOf(sender: SenderIdentity, location: MailboxLocation): unknown[] {
  return [sender.machine, sender.core, sender.process, location.machine, location.core, location.mailbox];
}

/** The header of `frame`, as the tuple its schema checks. */
function headerOf(frame: Frame): unknown[] {
  switch (frame.type) {
    case 'hello':
      return ['fos-proxy', frame.protocol, frame.machine, frame.listen];
    case 'deliver':
      return [
        frame.id,
        ...identityFieldsOf(frame.sender, frame.location),
        frame.destinationName,
        frame.capability,
        frame.sequence,
      ];
    case 'skip':
      return [...identityFieldsOf(frame.sender, frame.location), frame.sequence];
    case 'answer':
      return frame.error === undefined
        ? [frame.id]
        : [frame.id, frame.error.code, frame.error.message.slice(0, 1000), frame.error.sequence ?? null];
    case 'refuse':
      return [frame.reason.slice(0, 1000)];
    case 'ask':
      return [frame.id, frame.topic];
    case 'alias':
      return [
        frame.id,
        frame.operation,
        frame.location.machine,
        frame.location.core,
        frame.location.mailbox,
        frame.name,
      ];
    case 'reply':
      return frame.error === undefined ? [frame.id] : [frame.id, frame.error.code, frame.error.message.slice(0, 1000)];
  }
}

/** The bytes a frame carries after its header. */
function restOf(frame: Frame): Uint8Array | undefined {
  switch (frame.type) {
    case 'deliver':
      return frame.bytes;
    case 'ask':
    case 'reply':
      return frame.body;
    default:
      return undefined;
  }
}

/**
 * The bytes of one frame, length prefix included. `MESSAGE_TOO_LARGE` when the header passes
 * {@link frameHeaderBytesMax} or a `deliver`'s bytes pass `bytesMax`.
 */
export function encodeFrame(frame: Frame, bytesMax: number): Uint8Array {
  const header = encodeBody(headerOf(frame), frameHeaderBytesMax);
  const rest = restOf(frame);
  if (rest !== undefined && rest.length > bytesMax)
    throw new FosError('MESSAGE_TOO_LARGE', `a ${frame.type} of ${rest.length} bytes is larger than ${bytesMax}`, {
      value: rest.length,
    });
  const payloadLength = payloadPrefixBytes + header.length + (rest?.length ?? 0);
  const out = new Uint8Array(lengthBytes + payloadLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, payloadLength);
  out[lengthBytes] = typeCodes[frame.type];
  view.setUint16(lengthBytes + 1, header.length);
  out.set(header, lengthBytes + payloadPrefixBytes);
  if (rest !== undefined) out.set(rest, lengthBytes + payloadPrefixBytes + header.length);
  return out;
}

function malformed(reason: string, value: unknown): FosError {
  return new FosError('BAD_REQUEST', `malformed proxy frame: ${reason}`, { value });
}

/** Decodes one payload (without its length prefix); `BAD_REQUEST` for anything malformed. */
export function decodeFramePayload(payload: Uint8Array): Frame {
  if (payload.length < payloadPrefixBytes)
    throw malformed(`${payload.length} bytes is shorter than a frame`, payload.length);
  const type = typeNames[payload[0]!];
  if (type === undefined || type === '') throw malformed(`unknown frame type ${payload[0]}`, payload[0]);
  const headerLength = (payload[1]! << 8) | payload[2]!;
  if (headerLength === 0 || headerLength > frameHeaderBytesMax || payloadPrefixBytes + headerLength > payload.length)
    throw malformed(`header length ${headerLength} does not fit the frame of ${payload.length} bytes`, headerLength);
  const header = decodeBody(payload.subarray(payloadPrefixBytes, payloadPrefixBytes + headerLength));
  const rest = payload.subarray(payloadPrefixBytes + headerLength);
  if (!typesWithBytes.has(type) && rest.length > 0)
    throw malformed(`${rest.length} bytes after a ${type} header`, rest.length);
  const parse = <T>(schema: z.ZodType<T>): T => {
    const parsed = schema.safeParse(header);
    if (!parsed.success)
      throw malformed(
        `${type} header ${describeValue(header)}: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
        header,
      );
    return parsed.data;
  };
  switch (type) {
    case 'hello': {
      const [, protocol, machine, listen] = parse(helloSchema);
      return { type, protocol, machine, listen };
    }
    case 'deliver': {
      const fields = parse(deliverSchema);
      return {
        type,
        id: fields[0],
        ...identityOf(fields, 1),
        destinationName: fields[7],
        capability: fields[8],
        sequence: fields[9],
        // A copy: the kernel keeps it, and the reader's buffer is reused.
        bytes: rest.slice(),
      };
    }
    case 'skip': {
      const fields = parse(skipSchema);
      return { type, ...identityOf(fields, 0), sequence: fields[6] };
    }
    case 'answer': {
      const fields = parse(answerSchema);
      if (fields.length === 1) return { type, id: fields[0] };
      const [id, code, message, sequence] = fields;
      return { type, id, error: sequence === null ? { code, message } : { code, message, sequence } };
    }
    case 'refuse':
      return { type, reason: parse(refuseSchema)[0] };
    case 'alias': {
      const [id, operation, machine, core, mailbox, name] = parse(aliasSchema);
      return { type, id, operation, location: { machine, core, mailbox }, name };
    }
    case 'ask': {
      const [id, topic] = parse(askSchema);
      return { type, id, topic, body: rest.slice() };
    }
    case 'reply': {
      const fields = parse(replySchema);
      if (fields.length === 1) return { type, id: fields[0], body: rest.slice() };
      if (rest.length > 0) throw malformed(`${rest.length} bytes after a refused reply`, rest.length);
      const [id, code, message] = fields;
      return { type, id, body: rest.slice(), error: { code, message } };
    }
  }
}

/**
 * Cuts a byte stream into frames. `push` takes each chunk as it arrives and returns the frames it
 * completed; the first malformed or oversized frame throws (`BAD_REQUEST`, `MESSAGE_TOO_LARGE`) and
 * the reader refuses everything after it. It holds at most one frame's bytes.
 */
export class FrameReader {
  readonly #payloadBytesMax: number;
  #buffer: Uint8Array = new Uint8Array(0);
  #failed: FosError | undefined;

  /** `bytesMax`: the largest message a `deliver` may carry. */
  constructor(bytesMax: number) {
    this.#payloadBytesMax = framePayloadBytesMax(bytesMax);
  }

  /** Bytes held of a frame not yet complete. */
  get bufferedBytes(): number {
    return this.#buffer.length;
  }

  push(chunk: Uint8Array): Frame[] {
    if (this.#failed !== undefined) throw this.#failed;
    try {
      return this.#take(chunk);
    } catch (error) {
      this.#failed = error instanceof FosError ? error : malformed(String(error), undefined);
      this.#buffer = new Uint8Array(0);
      throw this.#failed;
    }
  }

  #take(chunk: Uint8Array): Frame[] {
    let buffer = chunk;
    if (this.#buffer.length > 0) {
      buffer = new Uint8Array(this.#buffer.length + chunk.length);
      buffer.set(this.#buffer);
      buffer.set(chunk, this.#buffer.length);
    }
    const frames: Frame[] = [];
    let at = 0;
    while (buffer.length - at >= lengthBytes) {
      const length = ((buffer[at]! << 24) >>> 0) + (buffer[at + 1]! << 16) + (buffer[at + 2]! << 8) + buffer[at + 3]!;
      if (length > this.#payloadBytesMax)
        throw new FosError(
          'MESSAGE_TOO_LARGE',
          `a proxy frame of ${length} bytes is larger than ${this.#payloadBytesMax}`,
          { value: length },
        );
      if (length < payloadPrefixBytes) throw malformed(`a frame of ${length} bytes`, length);
      if (buffer.length - at - lengthBytes < length) break;
      frames.push(decodeFramePayload(buffer.subarray(at + lengthBytes, at + lengthBytes + length)));
      at += lengthBytes + length;
    }
    this.#buffer = at === buffer.length ? new Uint8Array(0) : buffer.slice(at);
    return frames;
  }
}
