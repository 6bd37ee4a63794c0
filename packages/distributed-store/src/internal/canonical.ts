import { assert, type MessageBody } from '@fos/base';

/**
 * A canonical text of a message body: object keys sorted, every non-JSON type tagged, so equal
 * values give equal text whatever order their properties were set in.
 */
export function canonicalText(value: MessageBody): string {
  if (value === undefined) return 'u';
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'string':
      return JSON.stringify(value);
    case 'bigint':
      return `${value}n`;
    default:
      break;
  }
  if (value instanceof Uint8Array)
    return `b'${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')}'`;
  if (value instanceof Date) return `d'${value.toISOString()}'`;
  if (Array.isArray(value)) return `[${(value as readonly MessageBody[]).map(canonicalText).join(',')}]`;
  assert(typeof value === 'object', 'a message body is an object here');
  const record = value as { readonly [key: string]: MessageBody };
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalText(record[key])}`).join(',')}}`;
}
