import { describeValue, FosError, nameServiceName, validateName } from '@fos/base';

/**
 * Validates a name that may be given to a mailbox: a plain name (`validateName`), never the name
 * service's own name, which is reached through `ukNameServiceLookup` and never stored (§5.2). Throws
 * `INVALID_NAME` otherwise.
 */
export function validateMailboxName(text: unknown): string {
  const name = validateName(text);
  if (name === nameServiceName) {
    throw new FosError(
      'INVALID_NAME',
      `${describeValue(text)} is reserved for the name service and is never a mailbox name`,
      { value: text },
    );
  }
  return name;
}
