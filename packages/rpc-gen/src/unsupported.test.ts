import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RpcGenError } from './errors.js';
import { generateSource } from './generate.js';

const fileName = join(import.meta.dirname, 'fixtures', 'unsupported-api.ts');

/** Generates from `prelude` plus an API interface whose one member is `member` (on line 2 + prelude lines). */
function attempt(member: string, prelude = ''): RpcGenError {
  const source = `${prelude}export interface BadApi {\n  ${member}\n}\n`;
  try {
    generateSource(fileName, source);
  } catch (error) {
    expect(error).toBeInstanceOf(RpcGenError);
    return error as RpcGenError;
  }
  throw new Error(`generated from ${member}`);
}

// [what, member, prelude, type text the message names, column of the offending node]
const unsupportedTypes: readonly (readonly [string, string, string, string, number])[] = [
  ['any', 'f(value: any): Promise<void>;', '', 'any', 12],
  ['unknown', 'f(value: unknown): Promise<void>;', '', 'unknown', 12],
  ['never', 'f(value: never): Promise<void>;', '', 'never', 12],
  ['a function', 'f(callback: (n: number) => void): Promise<void>;', '', '(n: number) => void', 15],
  ['Map', 'f(table: Map<string, number>): Promise<void>;', '', 'Map<string, number>', 12],
  ['Set', 'f(members: Set<string>): Promise<void>;', '', 'Set<string>', 14],
  ['a Promise argument', 'f(later: Promise<string>): Promise<void>;', '', 'Promise<string>', 12],
  ['a class', 'f(counter: Counter): Promise<void>;', 'export class Counter { count = 0; }\n', 'Counter', 14],
  [
    'a generic interface',
    'f(box: Box<string>): Promise<void>;',
    'export interface Box<T> { value: T }\n',
    'Box<string>',
    10,
  ],
  [
    'a generic alias',
    'f(box: Pair<string>): Promise<void>;',
    'export type Pair<T> = { left: T; right: T };\n',
    'Pair<string>',
    10,
  ],
  ['a symbol', 'f(key: symbol): Promise<void>;', '', 'symbol', 10],
  ['undefined alone', 'f(value: undefined): Promise<void>;', '', 'undefined', 12],
  ['void as an argument', 'f(value: void): Promise<void>;', '', 'void', 12],
  ['undefined inside an array', 'f(values: (number | undefined)[]): Promise<void>;', '', 'number | undefined', 13],
  [
    'an intersection',
    'f(point: { x: number } & { y: number }): Promise<void>;',
    '',
    '{ x: number; } & { y: number; }',
    12,
  ],
  ['an enum', 'f(mode: Mode): Promise<void>;', 'export enum Mode { A, B }\n', 'Mode', 11],
  ['object', 'f(value: object): Promise<void>;', '', 'object', 12],
  ['an empty object type', 'f(value: {}): Promise<void>;', '', '{}', 12],
  [
    'an undiscriminated object union',
    'f(value: { a: number } | { b: string }): Promise<void>;',
    '',
    '{ a: number; } | { b: string; }',
    12,
  ],
  [
    'objects mixed with primitives',
    "f(value: { type: 'a' } | string): Promise<void>;",
    '',
    'string | { type: "a"; }',
    12,
  ],
  ['a recursive type', 'f(tree: Tree): Promise<void>;', 'export interface Tree { children: Tree[] }\n', 'Tree', 18],
  ['a tuple with a rest element', 'f(values: [string, ...number[]]): Promise<void>;', '', '[string, ...number[]]', 13],
  [
    'a number index signature',
    'f(values: { [index: number]: string }): Promise<void>;',
    '',
    '{ [index: number]: string; }',
    13,
  ],
  [
    'a method in a data type',
    'f(value: Thing): Promise<void>;',
    'interface Thing { name: string; run(): void }\n',
    'Thing',
    33,
  ],
  ['a template literal type', 'f(id: `id-${string}`): Promise<void>;', '', '`id-${string}`', 9],
  ['a non-Promise result', 'f(): string;', '', 'string', 8],
  ['a Promise<undefined> result', 'f(): Promise<undefined>;', '', 'undefined', 8],
  ['a property on an API interface', 'name: string;\n  f(): Promise<void>;', '', 'string', 3],
];

describe('unsupported types are generator errors at file:line:column naming the type', () => {
  it.each(unsupportedTypes)('%s', (_what, member, prelude, typeText, column) => {
    const error = attempt(member, prelude);
    const line = prelude.split('\n').length + 1;
    const where = _what === 'a recursive type' || _what === 'a method in a data type' ? 1 : line;
    expect(error.message).toContain(`unsupported type '${typeText}'`);
    expect(error.message.startsWith(`BAD_REQUEST: ${error.location?.file}:`)).toBe(true);
    expect(error.location?.file).toMatch(/unsupported-api\.ts$/);
    expect([error.location?.line, error.location?.column]).toEqual([where, column]);
  });
});

describe('other refusals', () => {
  it.each([
    ['a generic method', 'f<T>(value: T): Promise<void>;', /BadApi\.f is generic/],
    ['an overloaded method', 'f(a: string): Promise<void>;\n  f(a: number): Promise<void>;', /BadApi\.f is overloaded/],
    ['an optional method', 'f?(): Promise<void>;', /BadApi\.f is optional/],
    ['a rest parameter', 'f(...values: number[]): Promise<void>;', /rest parameter values is not supported/],
    ['a destructured parameter', 'f({ a }: { a: number }): Promise<void>;', /destructured parameter/],
    [
      'a parameter named like the generated code',
      'f(transport: string): Promise<void>;',
      /parameter name transport is taken/,
    ],
  ])('%s', (_what, member, message) => {
    expect(attempt(member).message).toMatch(message);
  });
});
