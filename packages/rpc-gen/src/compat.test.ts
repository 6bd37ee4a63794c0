import { loopbackTransport } from '@fos/dispatcher';
import { isFosError } from '@fos/base';
import { describe, expect, it } from 'vitest';
import type { Entry as EntryV1, StoreApi as StoreApiV1 } from './fixtures/compat/store-v1.js';
import type { Entry as EntryV2, StoreApi as StoreApiV2 } from './fixtures/compat/store-v2.js';
import * as v1 from './fixtures/compat/generated/store-v1.rpc.js';
import * as v2 from './fixtures/compat/generated/store-v2.rpc.js';

// Both versions are generated and committed (src/fixtures/compat/generated, checked byte for byte in
// generate.test.ts), compiled with the package, and wired across versions here.

function storeV1(seen: unknown[]): StoreApiV1 {
  const entries = new Map<string, EntryV1>();
  return {
    async get(key) {
      return entries.get(key) ?? null;
    },
    async put(key, entry) {
      seen.push(entry);
      entries.set(key, entry);
    },
  };
}

function storeV2(seen: unknown[]): StoreApiV2 {
  const entries = new Map<string, EntryV2>();
  return {
    async get(key) {
      return entries.get(key) ?? null;
    },
    async put(key, entry, ttlMs) {
      seen.push({ entry, ttlMs });
      entries.set(key, entry);
    },
    async remove(key) {
      return entries.delete(key);
    },
  };
}

describe('compatibility across interface versions', () => {
  it('keeps the ordinals of the methods both versions share', () => {
    expect(v2.storeApiOrdinals.get).toBe(v1.storeApiOrdinals.get);
    expect(v2.storeApiOrdinals.put).toBe(v1.storeApiOrdinals.put);
  });

  it('an older client works against a newer server: the new optional argument and member are absent', async () => {
    const seen: unknown[] = [];
    const client = v1.createStoreApiClient(loopbackTransport(v2.serveStoreApi(storeV2(seen))));
    await client.put('k', { value: 'one' });
    expect(seen).toEqual([{ entry: { value: 'one' }, ttlMs: undefined }]);
    expect(await client.get('k')).toEqual({ value: 'one' });
    expect(await client.get('absent')).toBeNull();
  });

  it('an older client reads entries a newer one wrote, extra members and all', async () => {
    const server = v2.serveStoreApi(storeV2([]));
    await v2.createStoreApiClient(loopbackTransport(server)).put('k', { value: 'two', tags: ['t'] }, 1_000);
    expect(await v1.createStoreApiClient(loopbackTransport(server)).get('k')).toEqual({ value: 'two', tags: ['t'] });
  });

  it('a newer client works against an older server: unknown arguments and members are stripped', async () => {
    const seen: unknown[] = [];
    const client = v2.createStoreApiClient(loopbackTransport(v1.serveStoreApi(storeV1(seen))));
    await client.put('k', { value: 'three', tags: ['a', 'b'] }, 500);
    expect(seen).toEqual([{ value: 'three' }]);
    expect(await client.get('k')).toEqual({ value: 'three' });
  });

  it('a newer client calling a method the older server lacks gets BAD_REQUEST naming the ordinal', async () => {
    const client = v2.createStoreApiClient(loopbackTransport(v1.serveStoreApi(storeV1([]))));
    const error = await client.remove('k').then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(isFosError(error) && error.code).toBe('BAD_REQUEST');
    expect(String(error)).toContain(`StoreApi has no method with ordinal ${v2.storeApiOrdinals.remove}`);
  });
});
