import { loopbackTransport, methodOrdinal } from '@fos/dispatcher';
import { isFosError } from '@fos/base';
import { describe, expect, it } from 'vitest';
import type { SampleApi } from './fixtures/sample-api.js';
import {
  createSampleApiClient,
  createSampleApiLocal,
  sampleApiErrors,
  sampleApiOrdinals,
  serveSampleApi,
} from './fixtures/generated/sample-api.rpc.js';
import { createSampleImpl } from './test/sample-impl.js';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const linkages: readonly [string, (impl: SampleApi) => SampleApi][] = [
  [
    'the generated client over loopbackTransport',
    (impl) => createSampleApiClient(loopbackTransport(serveSampleApi(impl))),
  ],
  ['the local linkage', (impl) => createSampleApiLocal(impl)],
];

describe.each(linkages)('%s', (_name, link) => {
  it('calls every method with valid values and returns the right results', async () => {
    const api = link(createSampleImpl());
    expect(await api.echo('hi', 3)).toEqual(['hi', 'hi', 'hi']);
    expect(await api.echo('once')).toEqual(['once']);
    expect(await api.add(2n ** 40n, 5n)).toBe(2n ** 40n + 5n);
    expect(await api.add(-7n, 2n)).toBe(-5n);
    expect(await api.put('a', new Uint8Array([1, 2, 3]))).toBeUndefined();
    expect(await api.put('a', new Uint8Array([9]), true)).toBeUndefined();
    const bytes = await api.get('a');
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect([...(bytes ?? [])]).toEqual([9]);
    expect(await api.get('b')).toBeNull();
    const drawing = {
      title: 'two shapes',
      shapes: [
        { type: 'circle', center: { x: 0, y: 0 }, radius: 3 },
        {
          type: 'polygon',
          points: [
            { x: 0, y: 0 },
            { x: 1, y: 0 },
            { x: 0, y: 1 },
          ],
          closed: true,
        },
      ],
      tags: ['a'],
      origin: null,
      weights: { a: 1 },
      thumbnail: new Uint8Array([7]),
      created: new Date(0),
      layers: ['base', 1],
    } as const;
    expect(
      await api.draw({
        ...drawing,
        shapes: [...drawing.shapes],
        tags: [...drawing.tags],
        layers: [...drawing.layers],
        color: 'green',
      }),
    ).toEqual({ area: 12, shapes: 2, color: 'green' });
    expect(await api.draw({ ...drawing, shapes: [], tags: [], layers: ['x', 0], origin: { x: 1, y: 1 } })).toEqual({
      area: 0,
      shapes: 0,
      color: null,
    });
    expect(await api.move({ x: 1, y: 2 }, [3, 4])).toEqual({ x: 4, y: 6 });
    expect(await api.move({ x: 1, y: 2 }, [3, 4], ['double', 2])).toEqual({ x: 7, y: 10 });
    expect(await api.move({ x: 1, y: 2 }, [3, 4], ['plain'])).toEqual({ x: 4, y: 6 });
    expect(await api.classify(2, 'fast', 7, true)).toBe(2);
    expect(await api.classify(3, false, 'k', false)).toBe('none');
    expect(await api.classify(1, 'exact', 'k', null)).toBe('none');
    expect(await api.handle({ type: 'start', at: 5 })).toBe('start');
    expect(await api.handle({ type: 'stop', code: null })).toBe('stop');
    expect(await api.handle({ type: 'stop', reason: 'done', code: 3 })).toBe('stop');
    expect(await api.tally({ counts: { a: 2, b: 3 }, levels: [1, 2] })).toBe(7);
    expect(await api.tally({ counts: {}, levels: [3], limit: null })).toBe(1);
    expect(await api.tally({ counts: { a: 10 }, levels: [], limit: 4 })).toBe(4);
    expect(await api.later(new Date(1_000))).toEqual(new Date(3_601_000));
    expect(await api.ping()).toBeUndefined();
    expect(await api.nothing()).toBeNull();
  });

  it('delivers a FosError of the implementation to the caller with its code', async () => {
    const api = link(createSampleImpl());
    await api.put('taken', new Uint8Array(0));
    const cases: [Promise<unknown>, string][] = [
      [api.put('taken', new Uint8Array(1)), 'NAME_EXISTS'],
      [api.get('absent', true), 'NO_SUCH_NAME'],
      [api.echo('x', -1), 'BAD_REQUEST'],
    ];
    for (const [call, code] of cases) {
      const error = await rejection(call);
      expect(isFosError(error)).toBe(true);
      expect(isFosError(error) && error.code).toBe(code);
    }
    expect(sampleApiErrors.put).toContain('NAME_EXISTS');
    expect(sampleApiErrors.get).toEqual(['NO_SUCH_NAME']);
  });
});

describe('the generated client', () => {
  it('sends arguments keyed by parameter name under the method ordinal', async () => {
    const sent: unknown[] = [];
    const client = createSampleApiClient({
      invoke: async (ordinal, method, args) => {
        sent.push({ ordinal, method, args });
        return null;
      },
    });
    await client.ping();
    await client.echo('a');
    expect(sent).toEqual([
      { ordinal: methodOrdinal('SampleApi', 'ping'), method: 'SampleApi.ping', args: {} },
      { ordinal: methodOrdinal('SampleApi', 'echo'), method: 'SampleApi.echo', args: { text: 'a', times: undefined } },
    ]);
    expect(sampleApiOrdinals.echo).toBe(methodOrdinal('SampleApi', 'echo'));
    expect(await client.nothing()).toBeNull();
  });
});
