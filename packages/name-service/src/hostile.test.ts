// Any value through every request of the name service, on the server itself (the local linkage, where
// nothing in between checks the request first): each answers success or a documented FosError, and a
// refused request leaves the table (by hash) and the kernel's aliases as they were.
import { readFileSync } from 'node:fs';
import { describeValue, isFosError, type FosErrorCode } from '@fos/base';
import { documentedErrorCodes, hostileValues } from '@fos/base/testing';
import { tierCount } from '@fos/sim';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { at, startFixture, type Fixture } from './internal/test-fixture.js';

const anyValue = fc.oneof(fc.anything(), fc.constantFrom(...hostileValues()));
const names = fc.constantFrom('/app/a', '/app/b', '/app/*', '/new/*', '/missing', '/tmp/x', '/sys/name');
const locations = fc.constantFrom(at(1), at(2), at(3, 1));

/** Lookup takes a name, not a request: the `name` of a generated request, or the value itself. */
function nameOf(request: unknown): unknown {
  try {
    return typeof request === 'object' && request !== null && 'name' in request ? request.name : request;
  } catch {
    return request;
  }
}

/** Each request with well-formed fields drawn from the test's world. */
function requests(
  f: Fixture,
): Array<{ name: string; fields: fc.Arbitrary<Record<string, unknown>>; run: (r: unknown) => Promise<unknown> }> {
  const capabilities = fc.constantFrom(f.root, f.management, 'AAAAAAAAAAAAAAAAAAAAAA');
  const s = f.server;
  return [
    { name: 'lookup', fields: fc.record({ name: names }), run: (r) => s.lookup(nameOf(r) as never) },
    {
      name: 'register',
      fields: fc.record({
        name: names,
        capability: capabilities,
        destination: fc.oneof(
          fc.record({ type: fc.constant('direct'), location: locations }),
          fc.record({ type: fc.constant('indirect'), name: names, weight: fc.integer({ min: 0, max: 1001 }) }),
        ),
      }),
      run: (r) => s.register(r as never),
    },
    {
      name: 'unregister',
      fields: fc.record(
        { name: names, capability: capabilities, destination: names, location: locations, deactivate: fc.boolean() },
        { requiredKeys: ['name', 'capability'] },
      ),
      run: (r) => s.unregister(r as never),
    },
    {
      name: 'reserve',
      fields: fc.record({ domain: names, capability: capabilities }),
      run: (r) => s.reserve(r as never),
    },
    {
      name: 'registerTemporary',
      fields: fc.record({ location: locations }),
      run: (r) => s.registerTemporary(r as never),
    },
    {
      name: 'list',
      fields: fc.record({ capability: capabilities, under: names }, { requiredKeys: ['capability'] }),
      run: (r) => s.list(r as never),
    },
  ];
}

/** A well-formed request with one field (or the whole request) replaced by any value, or an extra key added. */
function hostileRequest(fields: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<unknown> {
  return fc.oneof(
    anyValue,
    fields.chain((request) => {
      const keys = Object.keys(request);
      return fc
        .tuple(fc.constantFrom(...keys, 'extra'), anyValue)
        .map(([key, value]) => ({ ...request, [key]: value }));
    }),
  );
}

describe('any value through every request of the name server', () => {
  it('answers a documented FosError and, when refused, changes neither the table nor the aliases', async () => {
    const documented = documentedErrorCodes(readFileSync(new URL('../README.md', import.meta.url), 'utf8'));
    const f = await startFixture({ seed: 7 });
    await f.server.reserve({ domain: '/app/*', capability: f.root });
    await f.server.register({ name: '/app/a', capability: f.root, destination: { type: 'direct', location: at(1) } });
    const table = requests(f);
    const met = new Set<string>();
    const plan = fc
      .integer({ min: 0, max: table.length - 1 })
      .chain((index) => hostileRequest(table[index]!.fields).map((request) => ({ index, request })));
    await fc.assert(
      fc.asyncProperty(plan, async ({ index, request }) => {
        const { name, run } = table[index]!;
        const before = await f.server.tableHash();
        const aliases = f.aliases.sorted();
        try {
          await run(request);
        } catch (error) {
          if (!isFosError(error)) throw new Error(`${name}(${describeValue(request)}) threw ${String(error)}`);
          met.add(error.code);
          expect(await f.server.tableHash(), `${name} refused with ${error.code} and changed the table`).toBe(before);
          expect(f.aliases.sorted()).toEqual(aliases);
        }
      }),
      { numRuns: tierCount({ fast: 10_000, long: 100_000 }), seed: 7 },
    );
    expect([...met].filter((code) => !documented.has(code as FosErrorCode))).toEqual([]);
    expect(met.has('BAD_REQUEST') && met.has('INVALID_NAME') && met.has('PERMISSION_DENIED')).toBe(true);
    // The server still works.
    expect((await f.server.lookup('/app/a')).type).toBe('direct');
  }, 180_000);
});

describe('the shape of a request', () => {
  it('refuses a key the request does not have (the server itself: the generated RPC stub drops unknown keys first)', async () => {
    const f = await startFixture({ seed: 8 });
    const before = await f.server.tableHash();
    const request = { name: '/a', capability: f.root, destination: { type: 'direct', location: at(1) }, extra: 1 };
    await expect(f.server.register(request as never)).rejects.toThrow(/^BAD_REQUEST: register: .*extra/);
    await expect(f.server.unregister({ name: '/a', capability: f.root, also: 1 } as never)).rejects.toThrow(
      /^BAD_REQUEST/,
    );
    expect(await f.server.tableHash()).toBe(before);
  });
});
