// The default text of a message in a trace. JSON is readable and stable (object keys keep insertion
// order); the replacer covers the values JSON.stringify cannot show or would throw on. The text feeds
// the trace hash, so it stays exactly what it was for every message it could show; a message it
// cannot show (a cycle, a proxy or a getter that throws) gets `describeValue`'s text instead of
// failing the delivery.
import { describeValue } from '@fos/base';

function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Uint8Array) return `Uint8Array(${toHex(value)})`;
  if (value instanceof Map) return { Map: [...(value as Map<unknown, unknown>).entries()] };
  if (value instanceof Set) return { Set: [...(value as Set<unknown>).values()] };
  return value;
}

/**
 * JSON.stringify with bigint, Uint8Array, Map and Set support; `String(message)` where JSON has no
 * text; `describeValue(message)` where neither can read it.
 */
export function describeMessage(message: unknown): string {
  try {
    return JSON.stringify(message, replacer) ?? String(message);
  } catch {
    return describeValue(message);
  }
}
