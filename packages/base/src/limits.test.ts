import { describe, expect, it } from 'vitest';
import { encodeBody, type MessageBody } from './codec.js';
import { bodyDepthMax, messageBytesMax, nameCharactersMax, nameDepthMax, nameSegmentCharactersMax } from './limits.js';
import { parseName } from './names.js';
import { codeOfCall } from './testing.js';

/** A body nested `depth` arrays deep. */
function nested(depth: number): MessageBody {
  let body: MessageBody = 1;
  for (let level = 0; level < depth; level++) body = [body];
  return body;
}

/** A string body whose msgpack encoding is exactly `bytes` long (256 to 65,538: a str 16, 3 header bytes). */
function bodyOfBytes(bytes: number): MessageBody {
  return 'x'.repeat(bytes - 3);
}

describe('the limits of names and bodies', () => {
  it('accept a name exactly at each name limit and refuse one past it with INVALID_NAME', () => {
    const longestSegment = 'a'.repeat(nameSegmentCharactersMax);
    expect(codeOfCall(() => parseName(`/${longestSegment}`))).toBe('returned');
    expect(codeOfCall(() => parseName(`/${longestSegment}a`))).toBe('INVALID_NAME');
    expect(codeOfCall(() => parseName('/a'.repeat(nameDepthMax)))).toBe('returned');
    expect(codeOfCall(() => parseName('/a'.repeat(nameDepthMax + 1)))).toBe('INVALID_NAME');
    // Sixteen segments, fifteen of 15 characters and one of 14: with their slashes, 255 characters.
    const longest = `${'/abcdefghijklmno'.repeat(15)}/abcdefghijklmn`;
    expect(longest).toHaveLength(nameCharactersMax);
    expect(codeOfCall(() => parseName(longest))).toBe('returned');
    expect(codeOfCall(() => parseName(`${longest}n`))).toBe('INVALID_NAME');
  });

  it('accept a body exactly at messageBytesMax and bodyDepthMax and refuse one past either', () => {
    expect(encodeBody(bodyOfBytes(messageBytesMax))).toHaveLength(messageBytesMax);
    expect(codeOfCall(() => encodeBody(bodyOfBytes(messageBytesMax + 1)))).toBe('MESSAGE_TOO_LARGE');
    expect(codeOfCall(() => encodeBody(nested(bodyDepthMax)))).toBe('returned');
    expect(codeOfCall(() => encodeBody(nested(bodyDepthMax + 1)))).toBe('BAD_REQUEST');
  });
});
