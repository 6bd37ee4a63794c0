import { LocalStore } from '@fos/distributed-store';
import { SeededRandom } from '@fos/sim';
import { expect, it } from 'vitest';
import { NameServer, type NameEntry } from './index.js';

it('runs the README example', async () => {
  const added: string[] = [];
  const server = new NameServer({
    store: new LocalStore<NameEntry>(),
    random: new SeededRandom(1),
    aliases: { add: async (location, name) => void added.push(`${location.mailbox} ${name}`), remove: async () => {} },
    requester: () => ({ machine: 'm0', core: 1 }),
  });
  const { rootCapability } = await server.start();
  const { capability: fs } = await server.reserve({ domain: '/sys/fs/*', capability: rootCapability });
  await server.register({
    name: '/sys/fs/1',
    capability: fs,
    destination: { type: 'direct', location: { machine: 'm0', core: 2, mailbox: 7 } },
  });
  await server.register({
    name: '/sys/fs/entry',
    capability: fs,
    destination: { type: 'indirect', name: '/sys/fs/1', weight: 10 },
  });
  expect(await server.lookup('/sys/fs/entry')).toEqual({
    type: 'indirect',
    name: '/sys/fs/entry',
    next: '/sys/fs/1',
    ttlMs: 10_000,
  });
  expect(added).toEqual(['7 /sys/fs/entry']);
});
