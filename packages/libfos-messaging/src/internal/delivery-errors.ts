// How libfos reads the errors of a delivery: a refusal by the microkernel (the message was not delivered,
// so the name is refreshed and the send retried) as opposed to an error the responder answered, and
// `MESSAGE_TOO_LARGE` in the words of `send` and `call`.
import { encodeBody, FosError, isFosError, messageBytesMax } from '@fos/base';
import type { SendArguments } from './arguments.js';

/**
 * `MESSAGE_TOO_LARGE` in the words of `send` and `call`: the limit is the kernel's on the whole message,
 * and the body shares it with the dispatcher's envelope (the reply address, a token), so the message
 * says how much of it the body had.
 */
export function messageTooLarge(valid: SendArguments, error: FosError): FosError {
  const totalBytes = typeof error.value === 'number' ? error.value : undefined;
  let bodyBytes: number | undefined;
  try {
    bodyBytes = encodeBody(valid.body, Number.MAX_SAFE_INTEGER).length;
  } catch {
    bodyBytes = undefined;
  }
  const limit = /\((\d+)\)/.exec(error.message)?.[1] ?? String(messageBytesMax);
  const envelope =
    totalBytes === undefined || bodyBytes === undefined
      ? ''
      : `: the body is ${bodyBytes} bytes and its envelope ${totalBytes - bodyBytes}, so the largest body this send carries is ${Number(limit) - (totalBytes - bodyBytes)} bytes`;
  return new FosError(
    'MESSAGE_TOO_LARGE',
    `message to ${valid.name} exceeds the kernel's message size limit (${limit} bytes, body and envelope together)${envelope}`,
    { value: bodyBytes ?? totalBytes, cause: error },
  );
}

/** A refusal by the microkernel (the message was not delivered), as opposed to an error the responder answered. */
export function isDeliveryRefusal(error: unknown): boolean {
  return (
    isFosError(error) &&
    error.details.sequence !== undefined &&
    (error.code === 'NO_SUCH_NAME' || error.code === 'PERMISSION_DENIED' || error.code === 'UNREACHABLE')
  );
}
