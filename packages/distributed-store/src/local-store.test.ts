import { aliasOf, isFosError, type FosErrorCode } from '@fos/base';
import { describe, expect, it } from 'vitest';
import { fnv1a64Hex } from './internal/hash.js';
import { LocalStore, storeKeyCharactersMax, type Store } from './index.js';

type Value = { readonly name: string; readonly list?: readonly number[] };

async function codeOf(promise: Promise<unknown>): Promise<FosErrorCode | 'ok'> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (isFosError(error)) return error.code;
    throw error;
  }
}

describe('LocalStore', () => {
  it('inserts at version 1 and counts versions up on update', async () => {
    const store = new LocalStore<Value>();
    await store.insert('/a', { name: 'one' });
    expect(await store.get('/a')).toEqual({ value: { name: 'one' }, version: 1 });
    await store.update('/a', { name: 'two' }, 1);
    await store.update('/a', { name: 'three' }, 2);
    expect(await store.get('/a')).toEqual({ value: { name: 'three' }, version: 3 });
    expect(store.size).toBe(1);
    expect(await store.get('/b')).toBeUndefined();
  });

  it('answers CONFLICT for an insert over an entry and leaves it', async () => {
    const store = new LocalStore<Value>();
    await store.insert('/a', { name: 'one' });
    expect(await codeOf(store.insert('/a', { name: 'two' }))).toBe('CONFLICT');
    expect(await store.get('/a')).toEqual({ value: { name: 'one' }, version: 1 });
  });

  it('answers CONFLICT for an update or delete of an absent entry or at another version', async () => {
    const store = new LocalStore<Value>();
    expect(await codeOf(store.update('/a', { name: 'x' }, 1))).toBe('CONFLICT');
    expect(await codeOf(store.delete('/a', 1))).toBe('CONFLICT');
    await store.insert('/a', { name: 'one' });
    await store.update('/a', { name: 'two' }, 1);
    const hash = store.hash();
    expect(await codeOf(store.update('/a', { name: 'x' }, 1))).toBe('CONFLICT');
    expect(await codeOf(store.update('/a', { name: 'x' }, 3))).toBe('CONFLICT');
    expect(await codeOf(store.delete('/a', 1))).toBe('CONFLICT');
    expect(store.hash()).toBe(hash);
    await store.delete('/a', 2);
    expect(await store.get('/a')).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('starts a re-inserted key again at version 1', async () => {
    const store = new LocalStore<Value>();
    await store.insert('/a', { name: 'one' });
    await store.delete('/a', 1);
    await store.insert('/a', { name: 'again' });
    expect(await store.get('/a')).toEqual({ value: { name: 'again' }, version: 1 });
  });

  it('copies values in and out', async () => {
    const store = new LocalStore<Value>();
    const list = [1, 2];
    await store.insert('/a', { name: 'one', list });
    list.push(3);
    const first = await store.get('/a');
    expect(first?.value.list).toEqual([1, 2]);
    (first?.value.list as number[]).push(9);
    expect((await store.get('/a'))?.value.list).toEqual([1, 2]);
    expect(store.snapshot()).toEqual([{ key: '/a', value: { name: 'one', list: [1, 2] }, version: 1 }]);
  });

  it('refuses malformed keys, versions and values with BAD_REQUEST', async () => {
    const store = new LocalStore<Value>();
    expect(await codeOf(store.insert('', { name: 'x' }))).toBe('BAD_REQUEST');
    expect(await codeOf(store.get('x'.repeat(storeKeyCharactersMax + 1)))).toBe('BAD_REQUEST');
    expect(await codeOf(store.update('/a', { name: 'x' }, 0))).toBe('BAD_REQUEST');
    expect(await codeOf(store.delete('/a', 1.5))).toBe('BAD_REQUEST');
    expect(await codeOf(store.insert('/a', { name: 'x', list: [() => 1] } as unknown as Value))).toBe('BAD_REQUEST');
    expect(store.size).toBe(0);
  });

  it('answers LIMIT_EXCEEDED past entriesMax', async () => {
    const store = new LocalStore<Value>({ entriesMax: 2 });
    await store.insert('/a', { name: 'a' });
    await store.insert('/b', { name: 'b' });
    expect(await codeOf(store.insert('/c', { name: 'c' }))).toBe('LIMIT_EXCEEDED');
    await store.delete('/a', 1);
    await store.insert('/c', { name: 'c' });
    expect(store.keys()).toEqual(['/b', '/c']);
    expect(() => new LocalStore({ entriesMax: 0 })).toThrow(/entriesMax/);
  });

  it('hashes equal tables equally, whatever the order of keys and properties', async () => {
    const left = new LocalStore<Value>();
    const right = new LocalStore<Value>();
    await left.insert('/a', { name: 'a', list: [1] });
    await left.insert('/b', { name: 'b' });
    await right.insert('/b', { name: 'b' });
    await right.insert('/a', { list: [1], name: 'a' });
    expect(left.hash()).toBe(right.hash());
    expect(left.hash()).toMatch(/^[0-9a-f]{16}$/);
    await right.update('/a', { list: [1], name: 'a' }, 1);
    expect(left.hash()).not.toBe(right.hash());
  });

  it('computes FNV-1a 64 exactly', () => {
    for (const text of ['', 'a', '/sys/fs', 'é ü ∑ 𝄞', 'x'.repeat(1000)]) {
      expect(fnv1a64Hex(text)).toBe(aliasOf(text).toString(16).padStart(16, '0'));
    }
  });

  it('answers a bigint, a symbol or a cyclic value as a key with BAD_REQUEST and a short message (the key was shown with JSON.stringify, which threw a TypeError)', async () => {
    const store = new LocalStore<Value>();
    await expect(store.get(5n as never)).rejects.toThrow(/^BAD_REQUEST: store key 5n is not a non-empty string$/);
    await expect(store.insert(Symbol('k') as never, { name: 'x' })).rejects.toThrow(
      /^BAD_REQUEST: store key Symbol\(k\)/,
    );
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(store.delete(cyclic as never, 1)).rejects.toThrow(/^BAD_REQUEST: store key \{"self":"\[cycle\]"\}/);
    expect(store.size).toBe(0);
  });

  it('refuses options that are not an object or throw when read with BAD_REQUEST (they threw a TypeError)', () => {
    expect(() => new LocalStore(null as never)).toThrow(
      /^BAD_REQUEST: the options of a LocalStore is not an object: null$/,
    );
    const throwing = new Proxy(
      {},
      {
        get: () => {
          throw new Error('no');
        },
      },
    );
    expect(() => new LocalStore(throwing)).toThrow(/^BAD_REQUEST: the options of a LocalStore cannot be read/);
    expect(() => new LocalStore({ entriesMax: 2n as never })).toThrow(
      /^BAD_REQUEST: entriesMax 2n is not a positive integer$/,
    );
  });

  it('is usable through the Store interface', async () => {
    const store: Store<Value> = new LocalStore<Value>();
    await store.insert('/k', { name: 'k' });
    expect((await store.get('/k'))?.version).toBe(1);
  });
});
