import { LocalStore } from '@fos/distributed-store';
import { FosError } from '@fos/base';
import { hashCapability, mintCapability } from '@fos/microkernel';
import { SeededRandom } from '@fos/sim';
import { describe, expect, it } from 'vitest';
import type { NameEntry } from './entry.js';
import { at, codeOf, startFixture, type Fixture } from './internal/test-fixture.js';
import { listNamesMax, lookupTtlMs, NameServer } from './index.js';

const bogus = mintCapability(new SeededRandom(999));

async function direct(
  fixture: Fixture,
  name: string,
  mailbox: number,
  capability = fixture.root,
  extra: { core?: number; machine?: string; active?: boolean } = {},
): Promise<string> {
  const result = await fixture.server.register({
    name,
    capability,
    destination: { type: 'direct', location: at(mailbox, extra.core ?? 0, extra.machine ?? 'm') },
    ...(extra.active === undefined ? {} : { active: extra.active }),
  });
  return result.nameCapability;
}

async function indirect(
  fixture: Fixture,
  name: string,
  target: string,
  capability = fixture.root,
  weight?: number,
): Promise<string> {
  const destination =
    weight === undefined
      ? { type: 'indirect' as const, name: target }
      : { type: 'indirect' as const, name: target, weight };
  return (await fixture.server.register({ name, capability, destination })).nameCapability;
}

async function unchanged(fixture: Fixture, body: () => Promise<unknown>): Promise<string> {
  const before = await fixture.server.tableHash();
  const aliasesBefore = fixture.aliases.sorted();
  const code = await codeOf(body());
  expect(await fixture.server.tableHash()).toBe(before);
  expect(fixture.aliases.sorted()).toEqual(aliasesBefore);
  return code;
}

describe('start and stop', () => {
  it('reserves /* and /tmp/*, once only', async () => {
    const fixture = await startFixture();
    expect(fixture.store.inner.keys()).toEqual(['/*', '/tmp/*']);
    const root = (await fixture.store.get('/*'))?.value;
    expect(root).toEqual({ type: 'reservation', capabilityHash: hashCapability(fixture.root as never), active: true });
    expect(await codeOf(fixture.server.start())).toBe('NAME_EXISTS');
  });

  it('answers NAME_EXISTS when the store holds /* already (another member started it)', async () => {
    const store = new LocalStore<NameEntry>();
    const options = {
      store,
      random: new SeededRandom(3),
      aliases: { add: async () => {}, remove: async () => {} },
      requester: () => undefined,
    };
    await new NameServer(options).start();
    expect(await codeOf(new NameServer(options).start())).toBe('NAME_EXISTS');
  });

  it('answers SHUTDOWN before start and after stop; stop needs the management capability', async () => {
    const server = new NameServer({
      store: new LocalStore<NameEntry>(),
      random: new SeededRandom(3),
      aliases: { add: async () => {}, remove: async () => {} },
      requester: () => undefined,
    });
    expect(await codeOf(server.lookup('/a'))).toBe('SHUTDOWN');
    const fixture = await startFixture();
    expect(await codeOf(fixture.server.stop(fixture.root))).toBe('PERMISSION_DENIED');
    expect(await codeOf(fixture.server.stop('nope'))).toBe('PERMISSION_DENIED');
    await fixture.server.stop(fixture.management);
    expect(await codeOf(fixture.server.lookup('/a'))).toBe('SHUTDOWN');
    expect(await codeOf(fixture.server.reserve({ domain: '/a/*', capability: fixture.root }))).toBe('SHUTDOWN');
    expect(await codeOf(fixture.server.stop(fixture.management))).toBe('SHUTDOWN');
    expect(await codeOf(fixture.server.start())).toBe('NAME_EXISTS');
  });

  it('refuses bad limits', () => {
    expect(
      () =>
        new NameServer({
          store: new LocalStore<NameEntry>(),
          random: new SeededRandom(3),
          aliases: { add: async () => {}, remove: async () => {} },
          requester: () => undefined,
          limits: { indirectionHopsMax: 0 },
        }),
    ).toThrow(/indirectionHopsMax/);
  });
});

describe('register and lookup of direct names', () => {
  it('registers, looks up with the TTL and the published capability, keeps only hashes', async () => {
    const fixture = await startFixture();
    const published = mintCapability(fixture.random);
    const { nameCapability } = await fixture.server.register({
      name: '/sys/fs/1',
      capability: fixture.root,
      destination: { type: 'direct', location: at(5), publishedCapability: published },
    });
    expect(await fixture.server.lookup('/sys/fs/1')).toEqual({
      type: 'direct',
      name: '/sys/fs/1',
      location: at(5),
      publishedCapability: published,
      ttlMs: lookupTtlMs,
    });
    await direct(fixture, '/plain', 6);
    expect(await fixture.server.lookup('/plain')).toMatchObject({ publishedCapability: null });
    const stored = JSON.stringify(fixture.store.inner.snapshot());
    expect(stored).not.toContain(nameCapability);
    expect(stored).not.toContain(fixture.root);
    expect(fixture.aliases.calls).toEqual([]);
  });

  it('honours a configured TTL', async () => {
    const fixture = await startFixture({ limits: { lookupTtlMs: 5 } });
    await direct(fixture, '/a', 1);
    expect((await fixture.server.lookup('/a')).ttlMs).toBe(5);
  });

  it('answers every validation error and changes nothing', async () => {
    const fixture = await startFixture();
    await direct(fixture, '/a', 1);
    const register = (request: unknown): Promise<unknown> => fixture.server.register(request as never);
    const location = at(2);
    expect(
      await unchanged(fixture, () =>
        register({ name: 'a', capability: fixture.root, destination: { type: 'direct', location } }),
      ),
    ).toBe('INVALID_NAME');
    expect(
      await unchanged(fixture, () =>
        register({ name: '/b/*', capability: fixture.root, destination: { type: 'direct', location } }),
      ),
    ).toBe('INVALID_NAME');
    expect(
      await unchanged(fixture, () =>
        register({ name: '/sys/name', capability: fixture.root, destination: { type: 'direct', location } }),
      ),
    ).toBe('INVALID_NAME');
    expect(
      await unchanged(fixture, () =>
        register({ name: '/tmp/x', capability: fixture.root, destination: { type: 'direct', location } }),
      ),
    ).toBe('INVALID_NAME');
    expect(
      await unchanged(fixture, () =>
        register({ name: '/b', capability: fixture.root, destination: { type: 'indirect', name: '/sys/name' } }),
      ),
    ).toBe('INVALID_NAME');
    expect(
      await unchanged(fixture, () =>
        register({ name: '/b', capability: fixture.root, destination: { type: 'indirect', name: '/a', weight: 0 } }),
      ),
    ).toBe('BAD_REQUEST');
    expect(
      await unchanged(fixture, () =>
        register({ name: '/b', capability: fixture.root, destination: { type: 'indirect', name: '/a', weight: 1001 } }),
      ),
    ).toBe('BAD_REQUEST');
    expect(
      await unchanged(fixture, () =>
        register({
          name: '/b',
          capability: fixture.root,
          destination: { type: 'direct', location: { machine: 'm', core: -1, mailbox: 1 } },
        }),
      ),
    ).toBe('BAD_REQUEST');
    expect(
      await unchanged(fixture, () =>
        register({
          name: '/b',
          capability: fixture.root,
          destination: { type: 'direct', location, publishedCapability: 'short' },
        }),
      ),
    ).toBe('BAD_REQUEST');
    expect(
      await unchanged(fixture, () =>
        register({ name: '/b', capability: fixture.root, destination: { type: 'carrier-pigeon' } }),
      ),
    ).toBe('BAD_REQUEST');
    expect(await unchanged(fixture, () => register(null))).toBe('BAD_REQUEST');
    expect(
      await unchanged(fixture, () =>
        register({
          name: '/b',
          capability: fixture.root,
          destination: { type: 'direct', location },
          loadBalancer: { name: '/lb', capability: bogus },
        }),
      ),
    ).toBe('BAD_REQUEST');
    expect(
      await unchanged(fixture, () =>
        register({ name: '/b', capability: 'not a capability', destination: { type: 'direct', location } }),
      ),
    ).toBe('PERMISSION_DENIED');
    expect(
      await unchanged(fixture, () =>
        register({ name: '/b', capability: bogus, destination: { type: 'direct', location } }),
      ),
    ).toBe('PERMISSION_DENIED');
    expect(
      await unchanged(fixture, () =>
        register({ name: '/a', capability: fixture.root, destination: { type: 'direct', location } }),
      ),
    ).toBe('NAME_EXISTS');
    expect(
      await unchanged(fixture, () =>
        register({ name: '/a', capability: fixture.root, destination: { type: 'indirect', name: '/a' } }),
      ),
    ).toBe('NAME_EXISTS');
    expect(
      await unchanged(fixture, () =>
        register({ name: '/b', capability: fixture.root, destination: { type: 'indirect', name: '/nothing' } }),
      ),
    ).toBe('NO_SUCH_NAME');
  });

  it('looks up: NO_SUCH_NAME for absent names, sub-domains and reservations; INVALID_NAME for bad names', async () => {
    const fixture = await startFixture();
    await fixture.server.reserve({ domain: '/sys/*', capability: fixture.root });
    expect(await codeOf(fixture.server.lookup('/nothing'))).toBe('NO_SUCH_NAME');
    expect(await codeOf(fixture.server.lookup('/sys/*'))).toBe('NO_SUCH_NAME');
    expect(await codeOf(fixture.server.lookup('/*'))).toBe('NO_SUCH_NAME');
    expect(await codeOf(fixture.server.lookup('/sys/name'))).toBe('INVALID_NAME');
    expect(await codeOf(fixture.server.lookup('relative'))).toBe('INVALID_NAME');
    expect(await codeOf(fixture.server.lookup(42 as never))).toBe('INVALID_NAME');
  });
});

describe('capability scoping', () => {
  it('accepts a namespace capability under its sub-domain only, never above or beside', async () => {
    const fixture = await startFixture();
    const sys = (await fixture.server.reserve({ domain: '/sys/*', capability: fixture.root })).capability;
    const fs = (await fixture.server.reserve({ domain: '/sys/fs/*', capability: sys })).capability;
    await direct(fixture, '/sys/fs/1', 1, fs);
    await direct(fixture, '/sys/fs/deep/2', 2, fs);
    await direct(fixture, '/sys/fs/3', 3, sys);
    expect(await unchanged(fixture, () => direct(fixture, '/sys/net', 4, fs))).toBe('PERMISSION_DENIED');
    expect(await unchanged(fixture, () => direct(fixture, '/sys', 4, fs))).toBe('PERMISSION_DENIED');
    expect(await unchanged(fixture, () => direct(fixture, '/other', 4, sys))).toBe('PERMISSION_DENIED');
    expect(await unchanged(fixture, () => fixture.server.reserve({ domain: '/sys/*', capability: fs }))).toBe(
      'PERMISSION_DENIED',
    );
    expect(await unchanged(fixture, () => fixture.server.reserve({ domain: '/sys/net/*', capability: fs }))).toBe(
      'PERMISSION_DENIED',
    );
    expect(await unchanged(fixture, () => fixture.server.unregister({ name: '/sys/*', capability: fs }))).toBe(
      'PERMISSION_DENIED',
    );
    await fixture.server.reserve({ domain: '/sys/fs/deep/*', capability: fs });
    // A sub-domain is released only once nothing lives under it: not its names, not its sub-domains.
    expect(await unchanged(fixture, () => fixture.server.unregister({ name: '/sys/fs/*', capability: fs }))).toBe(
      'BAD_REQUEST',
    );
    for (const name of ['/sys/fs/1', '/sys/fs/deep/2', '/sys/fs/3', '/sys/fs/deep/*']) {
      await fixture.server.unregister({ name, capability: fs });
      if (name !== '/sys/fs/deep/*')
        expect(await unchanged(fixture, () => fixture.server.unregister({ name: '/sys/fs/*', capability: fs }))).toBe(
          'BAD_REQUEST',
        );
    }
    await fixture.server.unregister({ name: '/sys/fs/*', capability: fs });
    expect(await codeOf(direct(fixture, '/sys/fs/4', 4, fs))).toBe('PERMISSION_DENIED');
    await direct(fixture, '/sys/fs/4', 4, sys);
  });

  it('reserves and releases sub-domains with every error', async () => {
    const fixture = await startFixture();
    const reserve = (domain: unknown, capability: unknown = fixture.root): Promise<unknown> =>
      fixture.server.reserve({ domain, capability } as never);
    const app = (await fixture.server.reserve({ domain: '/app/*', capability: fixture.root })).capability;
    expect(await unchanged(fixture, () => reserve('/app/*'))).toBe('NAME_EXISTS');
    expect(await unchanged(fixture, () => reserve('/*'))).toBe('NAME_EXISTS');
    expect(await unchanged(fixture, () => reserve('/tmp/*'))).toBe('NAME_EXISTS');
    expect(await unchanged(fixture, () => reserve('/tmp/x/*'))).toBe('INVALID_NAME');
    expect(await unchanged(fixture, () => reserve('/app'))).toBe('INVALID_NAME');
    expect(await unchanged(fixture, () => reserve('/app/../*'))).toBe('INVALID_NAME');
    expect(await unchanged(fixture, () => reserve(7))).toBe('BAD_REQUEST');
    expect(await unchanged(fixture, () => reserve('/b/*', 'x'))).toBe('PERMISSION_DENIED');
    expect(await unchanged(fixture, () => reserve('/b/*', bogus))).toBe('PERMISSION_DENIED');
    expect(await unchanged(fixture, () => fixture.server.unregister({ name: '/*', capability: fixture.root }))).toBe(
      'PERMISSION_DENIED',
    );
    expect(
      await unchanged(fixture, () => fixture.server.unregister({ name: '/tmp/*', capability: fixture.root })),
    ).toBe('PERMISSION_DENIED');
    expect(
      await unchanged(fixture, () => fixture.server.unregister({ name: '/none/*', capability: fixture.root })),
    ).toBe('NO_SUCH_NAME');
    expect(
      await unchanged(fixture, () =>
        fixture.server.unregister({ name: '/app/*', capability: fixture.root, deactivate: true }),
      ),
    ).toBe('BAD_REQUEST');
    await fixture.server.unregister({ name: '/app/*', capability: app });
    expect(await codeOf(reserve('/app/*'))).toBe('ok');
  });
});

describe('unregister', () => {
  it('needs the name capability or a covering namespace capability', async () => {
    const fixture = await startFixture();
    const sys = (await fixture.server.reserve({ domain: '/sys/*', capability: fixture.root })).capability;
    const one = await direct(fixture, '/sys/1', 1, sys);
    await direct(fixture, '/sys/2', 2, sys);
    const other = await direct(fixture, '/other', 3);
    expect(await unchanged(fixture, () => fixture.server.unregister({ name: '/sys/2', capability: one }))).toBe(
      'PERMISSION_DENIED',
    );
    expect(await unchanged(fixture, () => fixture.server.unregister({ name: '/sys/2', capability: other }))).toBe(
      'PERMISSION_DENIED',
    );
    expect(await unchanged(fixture, () => fixture.server.unregister({ name: '/sys/3', capability: sys }))).toBe(
      'NO_SUCH_NAME',
    );
    expect(await unchanged(fixture, () => fixture.server.unregister({ name: '/sys/name', capability: sys }))).toBe(
      'INVALID_NAME',
    );
    expect(
      await unchanged(fixture, () =>
        fixture.server.unregister({ name: '/sys/1', capability: sys, destination: '/x', deactivate: true }),
      ),
    ).toBe('BAD_REQUEST');
    expect(
      await unchanged(fixture, () => fixture.server.unregister({ name: '/sys/1', capability: sys, destination: '/x' })),
    ).toBe('NO_SUCH_NAME');
    expect(
      await unchanged(fixture, () =>
        fixture.server.unregister({ name: '/sys/1', capability: sys, destination: 'bad' }),
      ),
    ).toBe('INVALID_NAME');
    expect(await unchanged(fixture, () => fixture.server.unregister({ name: '/sys/1' } as never))).toBe('BAD_REQUEST');
    await fixture.server.unregister({ name: '/sys/1', capability: one });
    await fixture.server.unregister({ name: '/sys/2', capability: sys });
    expect(await codeOf(fixture.server.lookup('/sys/1'))).toBe('NO_SUCH_NAME');
    expect(await codeOf(fixture.server.lookup('/sys/2'))).toBe('NO_SUCH_NAME');
  });
});

describe('indirect names, chains and cycles', () => {
  it('adds the indirect name to every reachable mailbox, along chains', async () => {
    const fixture = await startFixture();
    await direct(fixture, '/b', 1);
    await indirect(fixture, '/a', '/b');
    expect(fixture.aliases.takeCalls()).toEqual(['+m/0/1 /a']);
    await indirect(fixture, '/x', '/a');
    expect(fixture.aliases.takeCalls()).toEqual(['+m/0/1 /x']);
    await direct(fixture, '/c', 2);
    await indirect(fixture, '/a', '/c');
    expect(fixture.aliases.takeCalls().sort()).toEqual(['+m/0/2 /a', '+m/0/2 /x']);
    expect(fixture.aliases.sorted()).toEqual(['m/0/1 /a', 'm/0/1 /x', 'm/0/2 /a', 'm/0/2 /x']);
    expect(await fixture.server.lookup('/x')).toEqual({ type: 'indirect', name: '/x', next: '/a', ttlMs: lookupTtlMs });
  });

  it('removes exactly what is no longer reachable (diamonds keep what another path reaches)', async () => {
    const fixture = await startFixture();
    await direct(fixture, '/leaf', 1);
    await indirect(fixture, '/left', '/leaf');
    await indirect(fixture, '/right', '/leaf');
    const topCapability = await indirect(fixture, '/top', '/left');
    const rightEdge = await indirect(fixture, '/top', '/right');
    fixture.aliases.takeCalls();
    expect(fixture.aliases.sorted()).toEqual(['m/0/1 /left', 'm/0/1 /right', 'm/0/1 /top']);
    // The destination's own capability removes that destination alone; /top still reaches /leaf through /left.
    await fixture.server.unregister({ name: '/top', capability: rightEdge, destination: '/right' });
    expect(fixture.aliases.takeCalls()).toEqual([]);
    expect(
      await unchanged(fixture, () =>
        fixture.server.unregister({ name: '/top', capability: rightEdge, destination: '/left' }),
      ),
    ).toBe('PERMISSION_DENIED');
    await fixture.server.unregister({ name: '/top', capability: topCapability, destination: '/left' });
    expect(fixture.aliases.takeCalls()).toEqual(['-m/0/1 /top']);
    expect(await codeOf(fixture.server.lookup('/top'))).toBe('NO_SUCH_NAME');
  });

  it('cascades: unregistering a direct name removes it from indirect names, and emptied names go', async () => {
    const fixture = await startFixture();
    await direct(fixture, '/d1', 1);
    await direct(fixture, '/d2', 2);
    await indirect(fixture, '/one', '/d1');
    await indirect(fixture, '/both', '/d1');
    await indirect(fixture, '/both', '/d2');
    await indirect(fixture, '/chain', '/one');
    fixture.aliases.takeCalls();
    await fixture.server.unregister({ name: '/d1', capability: fixture.root });
    expect(fixture.aliases.takeCalls().sort()).toEqual(['-m/0/1 /both', '-m/0/1 /chain', '-m/0/1 /one']);
    expect(fixture.store.inner.keys()).toEqual(['/*', '/both', '/d2', '/tmp/*']);
    expect(await fixture.server.lookup('/both')).toMatchObject({ next: '/d2' });
    expect((await fixture.store.get('/d2'))?.value.referrers).toEqual(['/both']);
  });

  it('moves the aliases with a direct name that moves', async () => {
    const fixture = await startFixture();
    const capability = await direct(fixture, '/member', 1);
    await indirect(fixture, '/service', '/member');
    await indirect(fixture, '/front', '/service');
    fixture.aliases.takeCalls();
    await fixture.server.unregister({ name: '/member', capability, deactivate: true });
    expect(await codeOf(fixture.server.lookup('/member'))).toBe('INACTIVE');
    expect(fixture.aliases.takeCalls()).toEqual([]);
    expect(await unchanged(fixture, () => direct(fixture, '/member', 9))).toBe('NAME_EXISTS');
    await direct(fixture, '/member', 9, capability, { core: 3 });
    expect(fixture.aliases.takeCalls()).toEqual([
      '+m/3/9 /front',
      '+m/3/9 /service',
      '-m/0/1 /front',
      '-m/0/1 /service',
    ]);
    expect(await fixture.server.lookup('/member')).toMatchObject({ location: at(9, 3) });
  });

  it('refuses every cycle it can see with CYCLE and changes nothing', async () => {
    const fixture = await startFixture();
    await direct(fixture, '/d', 1);
    await indirect(fixture, '/a', '/d');
    await indirect(fixture, '/b', '/a');
    await indirect(fixture, '/c', '/b');
    expect(await unchanged(fixture, () => indirect(fixture, '/a', '/a'))).toBe('CYCLE');
    expect(await unchanged(fixture, () => indirect(fixture, '/self', '/self'))).toBe('CYCLE');
    expect(await unchanged(fixture, () => indirect(fixture, '/a', '/b'))).toBe('CYCLE');
    expect(await unchanged(fixture, () => indirect(fixture, '/a', '/c'))).toBe('CYCLE');
    expect(await unchanged(fixture, () => indirect(fixture, '/b', '/c'))).toBe('CYCLE');
  });

  it('refuses a chain longer than indirectionHopsMax with CYCLE', async () => {
    const fixture = await startFixture({ limits: { indirectionHopsMax: 3 } });
    await direct(fixture, '/d', 1);
    await indirect(fixture, '/h1', '/d');
    await indirect(fixture, '/h2', '/h1');
    await indirect(fixture, '/h3', '/h2');
    expect(await unchanged(fixture, () => indirect(fixture, '/h4', '/h3'))).toBe('CYCLE');
    await indirect(fixture, '/side', '/d');
    await indirect(fixture, '/side2', '/side');
    // /h3 → /h2 → /h1 would grow to four through /side2 → /side: refused even though /h1 is reached from above.
    expect(await unchanged(fixture, () => indirect(fixture, '/h1', '/side2'))).toBe('CYCLE');
  });

  it('answers LIMIT_EXCEEDED past destinationsPerNameMax and referrersPerNameMax', async () => {
    const fixture = await startFixture({ limits: { destinationsPerNameMax: 2, referrersPerNameMax: 2 } });
    for (const name of ['/d1', '/d2', '/d3']) await direct(fixture, name, 1);
    await indirect(fixture, '/i', '/d1');
    await indirect(fixture, '/i', '/d2');
    expect(await unchanged(fixture, () => indirect(fixture, '/i', '/d3'))).toBe('LIMIT_EXCEEDED');
    await indirect(fixture, '/j', '/d1');
    expect(await unchanged(fixture, () => indirect(fixture, '/k', '/d1'))).toBe('LIMIT_EXCEEDED');
  });

  it('answers LIMIT_EXCEEDED past graphNamesVisitedMax', async () => {
    const fixture = await startFixture({ limits: { graphNamesVisitedMax: 4 } });
    await direct(fixture, '/d', 1);
    await indirect(fixture, '/a', '/d');
    await indirect(fixture, '/b', '/a');
    expect(await unchanged(fixture, () => indirect(fixture, '/c', '/b'))).toBe('LIMIT_EXCEEDED');
  });

  it('passes an alias failure through and rewinds', async () => {
    const fixture = await startFixture();
    await direct(fixture, '/d1', 1);
    await direct(fixture, '/d2', 2);
    await indirect(fixture, '/i', '/d1');
    await indirect(fixture, '/top', '/i');
    fixture.aliases.failAdd = (location, name) =>
      location.mailbox === 2 && name === '/top' ? new FosError('LIMIT_EXCEEDED', 'names per mailbox') : undefined;
    expect(await unchanged(fixture, () => indirect(fixture, '/i', '/d2'))).toBe('LIMIT_EXCEEDED');
  });

  it('refuses a load balancer on an existing name', async () => {
    const fixture = await startFixture();
    await direct(fixture, '/d', 1);
    await direct(fixture, '/e', 2);
    await indirect(fixture, '/i', '/d');
    expect(
      await unchanged(fixture, () =>
        fixture.server.register({
          name: '/i',
          capability: fixture.root,
          destination: { type: 'indirect', name: '/e' },
          loadBalancer: { name: '/lb', capability: bogus },
        }),
      ),
    ).toBe('BAD_REQUEST');
  });
});

describe('inactive names', () => {
  it('registers inactive, answers INACTIVE, and skips inactive destinations while an active one exists', async () => {
    const fixture = await startFixture();
    await direct(fixture, '/off', 1, fixture.root, { active: false });
    await direct(fixture, '/on', 2);
    expect(await codeOf(fixture.server.lookup('/off'))).toBe('INACTIVE');
    await indirect(fixture, '/svc', '/off', fixture.root, 1000);
    await indirect(fixture, '/svc', '/on', fixture.root, 1);
    for (let index = 0; index < 50; index += 1)
      expect(await fixture.server.lookup('/svc')).toMatchObject({ next: '/on' });
    await fixture.server.unregister({ name: '/on', capability: fixture.root, deactivate: true });
    // No active destination left: the pick goes among all of them (the sender then waits out INACTIVE).
    expect(await fixture.server.lookup('/svc')).toMatchObject({ type: 'indirect', next: '/off' });
    await fixture.server.unregister({ name: '/svc', capability: fixture.root, deactivate: true });
    expect(await codeOf(fixture.server.lookup('/svc'))).toBe('INACTIVE');
    await indirect(fixture, '/svc2', '/on');
    await direct(fixture, '/d3', 3);
    await indirect(fixture, '/svc', '/d3');
    expect(await fixture.server.lookup('/svc')).toMatchObject({ type: 'indirect' });
  });
});

describe('weighted, locality-aware picks', () => {
  async function shares(fixture: Fixture, name: string, picks: number): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (let index = 0; index < picks; index += 1) {
      const result = await fixture.server.lookup(name);
      if (result.type !== 'indirect') throw new Error('indirect expected');
      counts.set(result.next, (counts.get(result.next) ?? 0) + 1);
    }
    return counts;
  }

  it('picks in proportion to weight (40,000 picks within 10%)', async () => {
    const fixture = await startFixture({ seed: 7 });
    const weights = { '/w1': 1, '/w3': 3, '/w6': 6 };
    let mailbox = 1;
    for (const [name, weight] of Object.entries(weights)) {
      await direct(fixture, name, mailbox++, fixture.root, { machine: 'other' });
      await indirect(fixture, '/svc', name, fixture.root, weight);
    }
    const counts = await shares(fixture, '/svc', 40_000);
    for (const [name, weight] of Object.entries(weights)) {
      const expected = (40_000 * weight) / 10;
      expect(Math.abs((counts.get(name) ?? 0) - expected)).toBeLessThan(expected * 0.1);
    }
  });

  it('favours the requester core 4 and machine 2 over elsewhere 1', async () => {
    const fixture = await startFixture({ seed: 11 });
    await direct(fixture, '/core', 1, fixture.root, { machine: 'm', core: 2 });
    await direct(fixture, '/machine', 2, fixture.root, { machine: 'm', core: 5 });
    await direct(fixture, '/far', 3, fixture.root, { machine: 'n', core: 2 });
    await direct(fixture, '/leaf', 4, fixture.root, { machine: 'm', core: 2 });
    await indirect(fixture, '/via', '/leaf');
    for (const name of ['/core', '/machine', '/far', '/via']) await indirect(fixture, '/svc', name);
    fixture.requester = { machine: 'm', core: 2 };
    const counts = await shares(fixture, '/svc', 40_000);
    // Weights 4 : 2 : 1 : 1 (an indirect destination counts as elsewhere).
    const expected = { '/core': 20_000, '/machine': 10_000, '/far': 5_000, '/via': 5_000 };
    for (const [name, share] of Object.entries(expected))
      expect(Math.abs((counts.get(name) ?? 0) - share)).toBeLessThan(share * 0.1);
    fixture.requester = undefined;
    const flat = await shares(fixture, '/svc', 8_000);
    for (const name of Object.keys(expected)) expect(Math.abs((flat.get(name) ?? 0) - 2_000)).toBeLessThan(200);
  });

  it('uses the load balancer, and falls back on undefined, errors, strangers and timeouts', async () => {
    let answer: 'b' | 'undefined' | 'throw' | 'stranger' | 'timeout' = 'b';
    const seen: unknown[] = [];
    const fixture = await startFixture({
      seed: 5,
      loadBalancer: async (ref, name, candidates, timeoutMs) => {
        seen.push({ ref, name, candidates, timeoutMs });
        if (answer === 'b') return '/b';
        if (answer === 'undefined') return undefined;
        if (answer === 'throw') throw new FosError('UNREACHABLE', 'balancer gone');
        if (answer === 'stranger') return '/nope';
        throw new FosError('TIMEOUT', `no answer within ${timeoutMs} ms`);
      },
    });
    await direct(fixture, '/a', 1);
    await direct(fixture, '/b', 2);
    const lb = { name: '/lb', capability: bogus };
    await fixture.server.register({
      name: '/svc',
      capability: fixture.root,
      destination: { type: 'indirect', name: '/a', weight: 1000 },
      loadBalancer: lb,
    });
    await indirect(fixture, '/svc', '/b', fixture.root, 1);
    for (let index = 0; index < 20; index += 1)
      expect(await fixture.server.lookup('/svc')).toMatchObject({ next: '/b' });
    expect(seen[0]).toEqual({
      ref: lb,
      name: '/svc',
      candidates: [
        { name: '/a', weight: 1000 },
        { name: '/b', weight: 1 },
      ],
      timeoutMs: 100,
    });
    for (const mode of ['undefined', 'throw', 'stranger', 'timeout'] as const) {
      answer = mode;
      const picks = new Set<string>();
      for (let index = 0; index < 20; index += 1)
        picks.add(((await fixture.server.lookup('/svc')) as { next: string }).next);
      expect(picks.has('/a')).toBe(true);
    }
  });
});

describe('registerTemporary', () => {
  it('registers meaningless names under /tmp/* that Lookup finds', async () => {
    const fixture = await startFixture();
    const first = await fixture.server.registerTemporary({ location: at(1) });
    const second = await fixture.server.registerTemporary({ location: at(1) });
    expect(first.name).toMatch(/^\/tmp\/[a-z2-7]{16}$/);
    expect(second.name).not.toBe(first.name);
    expect(await fixture.server.lookup(first.name)).toMatchObject({ type: 'direct', location: at(1) });
    await fixture.server.unregister({ name: first.name, capability: first.nameCapability });
    expect(await codeOf(fixture.server.lookup(first.name))).toBe('NO_SUCH_NAME');
    expect(await codeOf(fixture.server.registerTemporary({ location: 'here' } as never))).toBe('BAD_REQUEST');
  });

  it('answers LIMIT_EXCEEDED when no free name is found within the bound', async () => {
    // A source that draws the same temporary name every time (and real capabilities).
    const seeded = new SeededRandom(3);
    const random = {
      nextUint32: () => seeded.nextUint32(),
      nextFloat: () => seeded.nextFloat(),
      nextInt: (maxExclusive: number) => seeded.nextInt(maxExclusive),
      fillBytes: (bytes: Uint8Array) => (bytes.length === 10 ? bytes.fill(0) : seeded.fillBytes(bytes)),
    };
    const fixture = await startFixture({ random, limits: { temporaryNameAttemptsMax: 3 } });
    expect((await fixture.server.registerTemporary({ location: at(1) })).name).toBe('/tmp/aaaaaaaaaaaaaaaa');
    expect(await unchanged(fixture, () => fixture.server.registerTemporary({ location: at(2) }))).toBe(
      'LIMIT_EXCEEDED',
    );
  });
});

describe('CONFLICT from the store', () => {
  it('rewinds and retries, and ends correct', async () => {
    const fixture = await startFixture();
    await direct(fixture, '/d', 1);
    await indirect(fixture, '/i', '/d');
    fixture.aliases.takeCalls();
    // The second write of the next register (the update of /d's referrers) fails twice.
    let failures = 0;
    fixture.store.failWhen = (_index, operation, key) => operation === 'update' && key === '/i' && failures++ < 2;
    await indirect(fixture, '/top', '/i');
    expect(failures).toBe(3);
    expect(fixture.aliases.takeCalls()).toEqual([
      '+m/0/1 /top',
      '-m/0/1 /top',
      '+m/0/1 /top',
      '-m/0/1 /top',
      '+m/0/1 /top',
    ]);
    expect(fixture.store.inner.keys()).toEqual(['/*', '/d', '/i', '/tmp/*', '/top']);
    expect(await fixture.server.lookup('/top')).toMatchObject({ next: '/i' });
    expect((await fixture.store.get('/i'))?.value.referrers).toEqual(['/top']);
  });

  it('answers CONFLICT after conflictRetriesMax retries, with the table unchanged', async () => {
    const fixture = await startFixture({ limits: { conflictRetriesMax: 3 } });
    await direct(fixture, '/d', 1);
    fixture.store.failWhen = () => true;
    const modificationsBefore = fixture.store.modifications;
    expect(await unchanged(fixture, () => fixture.server.reserve({ domain: '/r/*', capability: fixture.root }))).toBe(
      'CONFLICT',
    );
    expect(fixture.store.modifications - modificationsBefore).toBe(4);
    expect(await unchanged(fixture, () => indirect(fixture, '/i', '/d'))).toBe('CONFLICT');
    // Rewinds re-insert what a failed multi-key commit wrote; with every rewind refused too the
    // entries stay as they were because the first write of each attempt already failed.
    fixture.store.failWhen = () => false;
    await indirect(fixture, '/i', '/d');
    const before = fixture.store.inner.snapshot().map(({ key, value }) => ({ key, value }));
    let index = 0;
    fixture.store.failWhen = (_index, operation) => operation === 'update' && index++ >= 0;
    expect(await codeOf(indirect(fixture, '/top', '/i'))).toBe('CONFLICT');
    expect(fixture.store.inner.snapshot().map(({ key, value }) => ({ key, value }))).toEqual(before);
    expect(fixture.aliases.sorted()).toEqual(['m/0/1 /i']);
  });

  it('settles concurrent modifications of one name through version conflicts and retries', async () => {
    const fixture = await startFixture();
    const members = ['/m1', '/m2', '/m3', '/m4', '/m5', '/m6'];
    for (const [index, name] of members.entries()) await direct(fixture, name, index + 1);
    await indirect(fixture, '/svc', '/m1');
    await Promise.all(members.slice(1).map((name) => indirect(fixture, '/svc', name)));
    const entry = (await fixture.store.get('/svc'))?.value;
    expect(entry?.destinations?.map((item) => item.name).sort()).toEqual(members);
    expect(fixture.aliases.sorted()).toEqual(members.map((_name, index) => `m/0/${index + 1} /svc`).sort());
  });
});

describe('list (management)', () => {
  it('lists the entries at or under a sub-domain, sorted, without capabilities, with the table hash', async () => {
    const fixture = await startFixture();
    const sys = (await fixture.server.reserve({ domain: '/sys/*', capability: fixture.root })).capability;
    await direct(fixture, '/sys/fs/1', 1, sys);
    await direct(fixture, '/sys/fs/2', 2, sys, { active: false });
    await indirect(fixture, '/sys/fs', '/sys/fs/1', sys, 3);
    await indirect(fixture, '/sys/fs', '/sys/fs/2', sys, 1);
    await direct(fixture, '/other', 4);
    const listed = await fixture.server.list({ capability: fixture.management, under: '/sys/*' });
    expect(listed.names).toEqual([
      { name: '/sys/*', type: 'reservation', active: true },
      {
        name: '/sys/fs',
        type: 'indirect',
        active: true,
        destinations: [
          { name: '/sys/fs/1', weight: 3 },
          { name: '/sys/fs/2', weight: 1 },
        ],
      },
      { name: '/sys/fs/1', type: 'direct', active: true, location: at(1) },
      { name: '/sys/fs/2', type: 'direct', active: false, location: at(2) },
    ]);
    expect(listed.truncated).toBe(false);
    expect(listed.member).toBe('ns00');
    expect(listed.tableHash).toBe(await fixture.server.tableHash());
    expect(JSON.stringify(listed)).not.toContain(fixture.root);
    const all = await fixture.server.list({ capability: fixture.management });
    expect(all.names.map((entry) => entry.name)).toEqual([
      '/*',
      '/other',
      '/sys/*',
      '/sys/fs',
      '/sys/fs/1',
      '/sys/fs/2',
      '/tmp/*',
    ]);
  });

  it('refuses anyone without the management capability, and malformed requests, changing nothing', async () => {
    const fixture = await startFixture();
    expect(await unchanged(fixture, () => fixture.server.list({ capability: fixture.root }))).toBe('PERMISSION_DENIED');
    expect(await unchanged(fixture, () => fixture.server.list({ capability: fixture.management, under: '/sys' }))).toBe(
      'INVALID_NAME',
    );
    expect(await unchanged(fixture, () => fixture.server.list({ under: '/*' } as never))).toBe('BAD_REQUEST');
  });

  it('answers at most listNamesMax entries and says so', async () => {
    const fixture = await startFixture();
    for (let index = 0; index < listNamesMax + 5; index += 1)
      await direct(fixture, `/n/${String(index).padStart(4, '0')}`, 1);
    const listed = await fixture.server.list({ capability: fixture.management, under: '/n/*' });
    expect(listed.names).toHaveLength(listNamesMax);
    expect(listed.truncated).toBe(true);
  });
});

describe('leaveFleet (management)', () => {
  it('needs the management capability, and a fleet to leave', async () => {
    const fixture = await startFixture();
    expect(await unchanged(fixture, () => fixture.server.leaveFleet({ capability: fixture.root }))).toBe(
      'PERMISSION_DENIED',
    );
    expect(await unchanged(fixture, () => fixture.server.leaveFleet({ capability: fixture.management }))).toBe(
      'BAD_REQUEST',
    );
    expect(await unchanged(fixture, () => fixture.server.leaveFleet({} as never))).toBe('BAD_REQUEST');
    expect(await fixture.server.lookup('/tmp/*').catch((error: unknown) => (error as { code: string }).code)).toBe(
      'NO_SUCH_NAME',
    );
  });
});
