import { copyBody, FosError, isFosError, type MessageBody } from '@fos/base';
import { z } from 'zod';
import type { Thread } from './thread.js';
import type { CallOptions, Destination, RequestHandler } from './types.js';

/**
 * How a generated client reaches its server: invoke method `ordinal` with its arguments keyed by
 * parameter name; resolve with the result (null for `void`) or reject with a `FosError`.
 */
export interface RpcTransport {
  invoke(ordinal: number, method: string, args: Record<string, MessageBody>): Promise<MessageBody>;
}

/** One method of a served interface, as rpc-gen generates it. */
export interface RpcMethod<Impl> {
  /** The method's name in the interface. */
  readonly name: string;
  /** {@link methodOrdinal} of the interface and method. */
  readonly ordinal: number;
  /** The schema of the arguments object (unknown members are stripped, for compatibility). */
  readonly args: z.ZodType<Record<string, unknown>>;
  /** Calls the implementation with validated arguments. */
  invoke(impl: Impl, args: Record<string, unknown>): unknown;
}

/** A served interface: its implementation and its methods by ordinal. */
export interface RpcService<Impl> {
  readonly interfaceName: string;
  readonly impl: Impl;
  readonly methods: ReadonlyMap<number, RpcMethod<Impl>>;
}

/** The wire form of an RPC request body. */
export const rpcRequestSchema = z.object({
  rpc: z.number().int().min(0).max(0xffffffff),
  args: z.record(z.string(), z.unknown()),
});

/**
 * The ordinal of a method on the wire: FNV-1a 32-bit of `Interface.method`, so that adding a method
 * never renumbers the others and client and server agree without a shared table.
 */
export function methodOrdinal(interfaceName: string, methodName: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(`${interfaceName}.${methodName}`, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** Bundles a generated service; refuses two methods with one ordinal (a hash collision). */
export function defineRpcService<Impl>(
  interfaceName: string,
  impl: Impl,
  methods: readonly RpcMethod<Impl>[],
): RpcService<Impl> {
  const byOrdinal = new Map<number, RpcMethod<Impl>>();
  for (const method of methods) {
    const clash = byOrdinal.get(method.ordinal);
    if (clash !== undefined)
      throw new FosError(
        'CONFLICT',
        `${interfaceName}.${method.name} and ${interfaceName}.${clash.name} share ordinal ${method.ordinal}: rename one`,
        { value: method.ordinal },
      );
    byOrdinal.set(method.ordinal, method);
  }
  return { interfaceName, impl, methods: byOrdinal };
}

function describePath(path: readonly PropertyKey[]): string {
  return path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`)).join('');
}

/**
 * Validates an RPC request body and calls the implementation. Bad input reaches no implementation:
 * a malformed body, an unknown ordinal or an argument that fails its schema answers `BAD_REQUEST`
 * naming the method, the argument and the path inside it.
 */
export async function dispatchRpc<Impl>(service: RpcService<Impl>, body: unknown): Promise<MessageBody> {
  const request = rpcRequestSchema.safeParse(body);
  if (!request.success)
    throw new FosError(
      'BAD_REQUEST',
      `${service.interfaceName}: not an RPC request (${request.error.issues[0]?.message ?? 'invalid'})`,
      { value: body },
    );
  const method = service.methods.get(request.data.rpc);
  if (method === undefined)
    throw new FosError('BAD_REQUEST', `${service.interfaceName} has no method with ordinal ${request.data.rpc}`, {
      value: request.data.rpc,
    });
  const args = method.args.safeParse(request.data.args);
  if (!args.success) {
    const issue = args.error.issues[0];
    const [argument, ...inside] = issue?.path ?? [];
    const where =
      argument === undefined
        ? 'its arguments'
        : `argument ${String(argument)}${inside.length > 0 ? ` at ${String(argument)}${describePath(inside)}` : ''}`;
    throw new FosError(
      'BAD_REQUEST',
      `${service.interfaceName}.${method.name}: ${where}: ${issue?.message ?? 'invalid'}`,
      { value: argument },
    );
  }
  const result = await method.invoke(service.impl, args.data);
  return (result ?? null) as MessageBody;
}

/** A dispatcher handler that serves an RPC service (register it on the service's mailbox). */
export function rpcHandler<Impl>(service: RpcService<Impl>): RequestHandler {
  return (request) => dispatchRpc(service, request.body);
}

/** A transport over dispatcher calls: each invocation is `thread.call(destination, request)` on the thread that makes it. */
export function dispatcherTransport(
  currentThread: () => Thread,
  destination: Destination,
  options: CallOptions = {},
): RpcTransport {
  return {
    invoke: async (ordinal, _method, args) =>
      (await currentThread().call(destination, { rpc: ordinal, args }, options)).body,
  };
}

/**
 * A transport that serves in-process, copying arguments and results through the message codec as a
 * real transport would (for tests, and for measuring marshalling and validation alone).
 */
export function loopbackTransport<Impl>(service: RpcService<Impl>): RpcTransport {
  return {
    invoke: async (ordinal, _method, args) => {
      try {
        return copyBody(await dispatchRpc(service, copyBody({ rpc: ordinal, args })));
      } catch (error) {
        if (isFosError(error))
          throw new FosError(error.code, error.message.slice(error.code.length + 2), { value: error.value });
        throw error;
      }
    },
  };
}
