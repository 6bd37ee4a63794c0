// The validation of Register's and Unregister's requests (thesis Table 4.2), apart from the server's
// state: each runs before the request touches the store, so a malformed request is refused with the
// same code whether or not the table would have let it through.
import type { RegisterRequest, UnregisterRequest } from '@fos/libfos-messaging';
import {
  FosError,
  isUnderSubdomain,
  nameServiceName,
  parseName,
  rootDomain,
  temporaryDomain,
  validateName,
} from '@fos/base';
import { validateCapability, type Capability, type MailboxLocation } from '@fos/microkernel';
import { destinationWeightDefault } from '../limits.js';
import { parseRequest, registerRequestSchema, unregisterRequestSchema } from './schemas.js';

/** The codes a name server refuses a request with (besides `SHUTDOWN` and `CONFLICT`). */
export type RefusalCode =
  | 'INVALID_NAME'
  | 'PERMISSION_DENIED'
  | 'NAME_EXISTS'
  | 'NO_SUCH_NAME'
  | 'CYCLE'
  | 'LIMIT_EXCEEDED'
  | 'BAD_REQUEST'
  | 'INACTIVE';

/** Refuses the current request with `code`, naming the offending `value`. */
export function refuse(code: RefusalCode, message: string, value: unknown): never {
  throw new FosError(code, message, { value });
}

/** A Register request whose name, destination, load balancer and capability passed validation. */
export type ValidRegister = {
  readonly name: string;
  readonly capability: Capability;
  readonly destination:
    | { readonly type: 'direct'; readonly location: MailboxLocation; readonly publishedCapability: string | undefined }
    | { readonly type: 'indirect'; readonly name: string; readonly weight: number };
  readonly active: boolean;
  readonly loadBalancer: { readonly name: string; readonly capability: string } | undefined;
};

/** An Unregister request that passed validation: `name` is a name or a sub-domain. */
export interface ValidUnregister {
  readonly name: string;
  readonly capability: Capability;
  readonly destination: string | undefined;
  /** A direct name is unregistered only at this mailbox. */
  readonly location: MailboxLocation | undefined;
  readonly deactivate: boolean;
}

/** Validates a Register request; `/tmp/*` and the name service's own name are never registered through it. */
export function validateRegister(request: RegisterRequest): ValidRegister {
  const valid = parseRequest('register', registerRequestSchema, request);
  const name = validateName(valid.name);
  if (name === nameServiceName)
    refuse('INVALID_NAME', `${nameServiceName} is the name service's own name and is never stored (§5.2)`, name);
  if (isUnderSubdomain(temporaryDomain, name))
    refuse('INVALID_NAME', `${name} lies under ${temporaryDomain}, where only registerTemporary makes names`, name);
  let destination: ValidRegister['destination'];
  if (valid.destination.type === 'indirect') {
    const target = validateName(valid.destination.name);
    if (target === nameServiceName) refuse('INVALID_NAME', `${nameServiceName} cannot be a destination`, target);
    destination = { type: 'indirect', name: target, weight: valid.destination.weight ?? destinationWeightDefault };
  } else {
    if (valid.loadBalancer !== undefined)
      refuse(
        'BAD_REQUEST',
        `register: a load balancer belongs to an indirect name, not to the direct name ${name}`,
        request,
      );
    destination = {
      type: 'direct',
      location: valid.destination.location,
      publishedCapability: valid.destination.publishedCapability,
    };
  }
  const loadBalancer =
    valid.loadBalancer === undefined
      ? undefined
      : { name: validateName(valid.loadBalancer.name), capability: valid.loadBalancer.capability };
  const capability = validateCapability(valid.capability);
  return { name, capability, destination, active: valid.active ?? true, loadBalancer };
}

/**
 * Validates an Unregister request; the root `/*` and `/tmp/*` belong to the name service and are never
 * released.
 */
export function validateUnregister(request: UnregisterRequest): ValidUnregister {
  const parsedRequest = parseRequest('unregister', unregisterRequestSchema, request);
  const parsed = parseName(parsedRequest.name);
  if (parsed.text === nameServiceName) refuse('INVALID_NAME', `${nameServiceName} is never stored (§5.2)`, parsed.text);
  const destination = parsedRequest.destination === undefined ? undefined : validateName(parsedRequest.destination);
  const deactivate = parsedRequest.deactivate ?? false;
  const location = parsedRequest.location;
  if (parsed.isSubdomain && (destination !== undefined || location !== undefined || deactivate)) {
    refuse(
      'BAD_REQUEST',
      `unregister: ${parsed.text} is a sub-domain; destination, location and deactivate apply to names only`,
      request,
    );
  }
  if (destination !== undefined && deactivate)
    refuse('BAD_REQUEST', 'unregister: deactivate applies to a whole name, not to one destination', request);
  if (destination !== undefined && location !== undefined)
    refuse('BAD_REQUEST', 'unregister: a destination belongs to an indirect name, a location to a direct one', request);
  const capability = validateCapability(parsedRequest.capability);
  if (parsed.text === rootDomain || parsed.text === temporaryDomain) {
    refuse('PERMISSION_DENIED', `${parsed.text} belongs to the name service and is never released`, parsed.text);
  }
  return { name: parsed.text, capability, destination, location, deactivate };
}
