import { copyBody, describeValue, FosError, isFosError, type MessageBody } from '@fos/base';
import { z } from 'zod';
import {
  checkedCallOptions,
  checkedDestination,
  checkFunction,
  checkRecord,
  readArgument,
  refuse,
} from './internal/arguments.js';
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
  if (typeof interfaceName !== 'string')
    refuse(`an interface name ${describeValue(interfaceName)} is not a string`, interfaceName);
  if (typeof methodName !== 'string') refuse(`a method name ${describeValue(methodName)} is not a string`, methodName);
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(`${interfaceName}.${methodName}`, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** Characters of an interface's or a method's name at most (TypeScript identifiers; messages show them whole). */
const rpcNameCharactersMax = 255;

function checkRpcName(name: unknown, what: string): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > rpcNameCharactersMax)
    refuse(`${what} ${describeValue(name)} is not a string of 1 to ${rpcNameCharactersMax} characters`, name);
}

/** One method of a service, read once and checked: a name, an ordinal, a schema and a function. */
function checkedMethod<Impl>(method: unknown): RpcMethod<Impl> {
  checkRecord(method, 'an RPC method');
  const { name, ordinal, args, invoke } = method;
  checkRpcName(name, "an RPC method's name");
  if (typeof ordinal !== 'number' || !Number.isInteger(ordinal) || ordinal < 0 || ordinal > 0xffffffff)
    refuse(`the ordinal of ${name} ${describeValue(ordinal)} is not a 32-bit unsigned integer`, ordinal);
  const schema = readArgument(args, `the schema of ${name}`, () =>
    typeof args === 'object' && args !== null && typeof (args as { safeParse?: unknown }).safeParse === 'function'
      ? (args as z.ZodType<Record<string, unknown>>)
      : undefined,
  );
  if (schema === undefined) refuse(`the arguments of ${name} are not a zod schema: ${describeValue(args)}`, args);
  checkFunction(invoke, `the invoke of ${name}`);
  return { name, ordinal, args: schema, invoke: invoke };
}

/**
 * Bundles a generated service; refuses two methods with one ordinal (a hash collision) with
 * `CONFLICT`, and an interface name, a method or a method list of the wrong shape, or an
 * implementation without a function for each method, with `BAD_REQUEST`.
 */
export function defineRpcService<Impl>(
  interfaceName: string,
  impl: Impl,
  methods: readonly RpcMethod<Impl>[],
): RpcService<Impl> {
  checkRpcName(interfaceName, 'an interface name');
  if (!Array.isArray(methods))
    refuse(`the methods of ${interfaceName} are not an array: ${describeValue(methods)}`, methods);
  const checked = readArgument(methods, `the methods of ${interfaceName}`, () =>
    [...(methods as unknown[])].map((method) => checkedMethod<Impl>(method)),
  );
  const byOrdinal = new Map<number, RpcMethod<Impl>>();
  for (const method of checked) {
    const clash = byOrdinal.get(method.ordinal);
    if (clash !== undefined)
      throw new FosError(
        'CONFLICT',
        `${interfaceName}.${method.name} and ${interfaceName}.${clash.name} share ordinal ${method.ordinal}: rename one`,
        { value: method.ordinal },
      );
    byOrdinal.set(method.ordinal, method);
  }
  // Each method must be there to call: a missing one would fail inside `invoke`, at the first request.
  const missing = readArgument(impl, `the implementation of ${interfaceName}`, () =>
    checked.filter(
      (method) =>
        typeof impl !== 'object' ||
        impl === null ||
        typeof (impl as Record<string, unknown>)[method.name] !== 'function',
    ),
  );
  if (missing.length > 0)
    refuse(
      `the implementation of ${interfaceName} has no method ${missing.map((method) => method.name).join(', ')}: ${describeValue(impl)}`,
      impl,
    );
  return { interfaceName, impl, methods: byOrdinal };
}

/** `schema.safeParse(value)`, where a value that throws when read is a failure like any other. */
function safeParse<T>(schema: z.ZodType<T>, value: unknown, what: string): ReturnType<z.ZodType<T>['safeParse']> {
  try {
    const result = schema.safeParse(value);
    // zod words its issues when they are first read, and reads the value again to do it.
    if (!result.success) void result.error.issues.length;
    return result;
  } catch {
    return refuse(`${what} cannot be read: ${describeValue(value)}`, value);
  }
}

/** A service as `defineRpcService` makes it: `BAD_REQUEST` for anything else. */
function checkService(service: unknown): void {
  const ok = readArgument(
    service,
    'an RPC service',
    () =>
      typeof service === 'object' &&
      service !== null &&
      typeof (service as RpcService<unknown>).interfaceName === 'string' &&
      (service as RpcService<unknown>).methods instanceof Map,
  );
  if (!ok) refuse(`not an RPC service (made by defineRpcService): ${describeValue(service)}`, service);
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
  checkService(service);
  // A body or an argument that throws when read fails its schema like any other malformed one.
  const request = safeParse(rpcRequestSchema, body, `${service.interfaceName}: the request`);
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
  const args = safeParse(method.args, request.data.args, `${service.interfaceName}.${method.name}: the arguments`);
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

/** A dispatcher handler that serves an RPC service (register it on the service's mailbox). `BAD_REQUEST` for anything but a service. */
export function rpcHandler<Impl>(service: RpcService<Impl>): RequestHandler {
  checkService(service);
  return (request) => dispatchRpc(service, request.body);
}

/** A transport over dispatcher calls: each invocation is `thread.call(destination, request)` on the thread that makes it. */
export function dispatcherTransport(
  currentThread: () => Thread,
  destination: Destination,
  options: CallOptions = {},
): RpcTransport {
  checkFunction(currentThread, 'currentThread');
  const to = checkedDestination(destination);
  const callOptions = checkedCallOptions(options);
  return {
    invoke: async (ordinal, _method, args) => {
      const thread = currentThread();
      if (typeof thread !== 'object' || thread === null || typeof thread.call !== 'function')
        refuse(`currentThread answered ${describeValue(thread)}, not a thread`, thread);
      return (await thread.call(to, { rpc: ordinal, args }, callOptions)).body;
    },
  };
}

/**
 * A transport that serves in-process, copying arguments and results through the message codec as a
 * real transport would (for tests, and for measuring marshalling and validation alone).
 */
export function loopbackTransport<Impl>(service: RpcService<Impl>): RpcTransport {
  checkService(service);
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
