import { FosError } from '@fos/base';
import type { Event, SampleApi } from '../fixtures/sample-api.js';

/** A small, honest implementation of the sample API for the tests, counting the calls it receives. */
export function createSampleImpl(): SampleApi & { readonly calls: Map<string, number> } {
  const store = new Map<string, Uint8Array>();
  const calls = new Map<string, number>();
  const count = (method: string): void => {
    calls.set(method, (calls.get(method) ?? 0) + 1);
  };
  return {
    calls,
    async echo(text, times = 1) {
      count('echo');
      if (times < 0) throw new FosError('BAD_REQUEST', `times must not be negative (${times})`, { value: times });
      return Array.from({ length: times }, () => text);
    },
    async add(a, b) {
      count('add');
      return a + b;
    },
    async put(name, bytes, overwrite) {
      count('put');
      if (store.has(name) && overwrite !== true) throw new FosError('NAME_EXISTS', `${name} is taken`, { value: name });
      store.set(name, bytes);
    },
    async get(name, strict) {
      count('get');
      const bytes = store.get(name);
      if (bytes === undefined && strict === true)
        throw new FosError('NO_SUCH_NAME', `${name} is not stored`, { value: name });
      return bytes ?? null;
    },
    async draw(drawing) {
      count('draw');
      const area = drawing.shapes.reduce(
        (sum, shape) => sum + (shape.type === 'circle' ? shape.radius * shape.radius : shape.points.length),
        0,
      );
      return { area, shapes: drawing.shapes.length, color: drawing.color ?? null };
    },
    async move(from, by, label) {
      count('move');
      const scale = label?.[1] ?? 1;
      return { x: from.x + by[0] * scale, y: from.y + by[1] * scale };
    },
    async classify(level, mode, key, flag) {
      count('classify');
      return mode === false || flag === null || key === '' ? 'none' : level;
    },
    async handle(event: Event) {
      count('handle');
      return event.type;
    },
    async tally(query) {
      count('tally');
      const total = Object.values(query.counts).reduce((sum, value) => sum + value, 0) + query.levels.length;
      return query.limit === undefined || query.limit === null ? total : Math.min(total, query.limit);
    },
    async later(at) {
      count('later');
      return new Date(at.getTime() + 3_600_000);
    },
    async ping() {
      count('ping');
    },
    async nothing() {
      count('nothing');
      return null;
    },
  };
}
