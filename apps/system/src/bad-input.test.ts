// Bad input through the whole stack (libfos, the name service, the kernel) never changes anything:
// the regression tests of the defects a newcomer found, and a property test that sends any value
// through every public call of libfos and checks, after each refused call, the name table (by its
// hash, through `list`) and the kernel's names on every mailbox of the test's processes.
import { readFileSync } from 'node:fs';
import { describeValue, isFosError, type FosErrorCode } from '@fos/base';
import { codeOf, documentedErrorCodes, hostileValues } from '@fos/base/testing';
import { spawnLibfos, type Libfos } from '@fos/libfos-messaging';
import type { Capability, CreatedMailbox } from '@fos/microkernel';
import { tierCount } from '@fos/sim';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boot as boot_, type Instance } from './boot.js';
import { withInstance } from './testing.js';

type World = {
  instance: Instance;
  management: string;
  root: Capability;
  server: Libfos;
  client: Libfos;
  mailbox: CreatedMailbox;
  other: CreatedMailbox;
  direct: Capability;
  fleet: Capability;
  mailboxes: Array<{ owner: Libfos; mailbox: CreatedMailbox }>;
};

async function world(instance: Instance): Promise<World> {
  const service = instance.nameService!;
  const server = await spawnLibfos(instance, 1, 'server');
  const client = await spawnLibfos(instance, 0, 'client');
  const root = service.rootCapability;
  const mailbox = await server.createMailbox();
  const other = await server.createMailbox();
  server.serve(mailbox.location, { handler: (request) => ({ echo: request.body }) });
  const direct = await server.aliasRegisterDirect('/app/echo', mailbox, root);
  await server.aliasRegisterDirect('/app/other', other, root);
  const fleet = await server.aliasRegisterIndirect('/app/fleet', '/app/echo', root);
  await server.aliasRegisterIndirect('/app/fleet', '/app/other', root);
  await client.call('/app/echo', 'warm'); // the client's canonical alias exists from here on
  const clientMailbox = await client.createMailbox();
  return {
    instance,
    management: service.managementCapability,
    root,
    server,
    client,
    mailbox,
    other,
    direct,
    fleet,
    mailboxes: [
      { owner: server, mailbox },
      { owner: server, mailbox: other },
      { owner: client, mailbox: clientMailbox },
    ],
  };
}

/** The name table's hash and every test mailbox's names in the kernel: what a refused call must not change. */
async function state(w: World): Promise<string> {
  const { tableHash } = await w.client.nameService.list({ capability: w.management });
  const names = [];
  for (const { owner, mailbox } of w.mailboxes) names.push((await owner.kernel.mailboxNames(mailbox.location)).sort());
  return `${tableHash} ${JSON.stringify(names)}`;
}

/** The code `call` is refused with, after checking that it changed nothing. */
async function refusedUnchanged(w: World, call: () => Promise<unknown>): Promise<string> {
  const before = await state(w);
  const code = await codeOf(call());
  expect(await state(w)).toBe(before);
  return code;
}

function boot<T>(body: (w: World) => Promise<T>): Promise<T> {
  return withInstance({ fabric: 'local', cores: 3 }, async (instance) => body(await world(instance)));
}

describe('defects of bad input through libfos and the name service', () => {
  it('unregisterDirect with a location that is not the name mailbox is refused and changes nothing', async () => {
    await boot(async (w) => {
      const call = (location: unknown) => () => w.server.unregisterDirect('/app/echo', location as never, w.direct);
      expect(await refusedUnchanged(w, call({ machine: 'm' }))).toBe('BAD_REQUEST');
      expect(await refusedUnchanged(w, call('m/1/1'))).toBe('BAD_REQUEST');
      // A well-typed location, of this process, that is not the name's mailbox.
      expect(await refusedUnchanged(w, call(w.other.location))).toBe('NO_SUCH_NAME');
      // A mailbox of another process (on another core).
      const foreign = (await w.client.createMailbox()).location;
      expect(await refusedUnchanged(w, call(foreign))).toBe('PERMISSION_DENIED');
      // The right one removes the entry and the kernel's name together.
      await w.server.unregisterDirect('/app/echo', w.mailbox.location, w.direct);
      expect(await w.server.kernel.mailboxNames(w.mailbox.location)).not.toContain('/app/echo');
      expect(await codeOf(w.client.nameService.lookup('/app/echo'))).toBe('NO_SUCH_NAME');
    });
  });

  it('unregisterIndirect without a destination is BAD_REQUEST; unregisterName removes a whole name', async () => {
    await boot(async (w) => {
      expect(
        await refusedUnchanged(w, () => w.server.unregisterIndirect('/app/fleet', undefined as never, w.fleet)),
      ).toBe('BAD_REQUEST');
      await w.server.unregisterName('/app/fleet', w.fleet);
      expect(await codeOf(w.client.nameService.lookup('/app/fleet'))).toBe('NO_SUCH_NAME');
      expect((await w.client.nameService.lookup('/app/echo')).type).toBe('direct');
    });
  });

  it('bigints, null, symbols and bodies that throw when read are documented FosErrors', async () => {
    await boot(async (w) => {
      const throwing = {
        get broken(): never {
          throw new Error('read me not');
        },
      };
      const cases: Array<[string, () => Promise<unknown>]> = [
        ['BAD_REQUEST', () => w.client.send(5n as never, 'x')],
        ['BAD_REQUEST', () => w.client.aliasResolve(Symbol('s') as never)],
        ['BAD_REQUEST', () => w.server.reserveNamespace('/x/*', 5n as never)],
        ['BAD_REQUEST', () => w.server.createMailbox(null as never)],
        ['BAD_REQUEST', () => w.client.call('/app/echo', 'x', null as never)],
        ['BAD_REQUEST', () => w.server.aliasRegisterDirect('/app/x', w.other, w.root, null as never)],
        ['BAD_REQUEST', () => w.client.send('/app/echo', throwing)],
        ['BAD_REQUEST', () => w.client.call('/app/echo', throwing)],
        ['INVALID_NAME', () => w.client.send('relative', 'x')],
        ['PERMISSION_DENIED', () => w.server.deactivate('/app/echo', 'AAAAAAAAAAAAAAAAAAAAAB' as Capability)],
      ];
      for (const [code, call] of cases) expect(await refusedUnchanged(w, call)).toBe(code);
    });
  });

  it('codes match the docs: another process mailbox is PERMISSION_DENIED on any core; a name of the wrong type is BAD_REQUEST', async () => {
    await boot(async (w) => {
      const foreign = await w.client.createMailbox(); // the client runs on core 0, the server on core 1
      expect(await refusedUnchanged(w, () => w.server.aliasRegisterDirect('/app/x', foreign, w.root))).toBe(
        'PERMISSION_DENIED',
      );
      const request = {
        name: '/app/x',
        capability: w.root,
        destination: { type: 'direct', location: w.other.location },
      };
      expect(await refusedUnchanged(w, () => w.client.nameService.register({ ...request, name: 5 } as never))).toBe(
        'BAD_REQUEST',
      );
    });
  });

  it('releasing a sub-domain with names under it is BAD_REQUEST and changes nothing', async () => {
    await boot(async (w) => {
      const app = await w.server.reserveNamespace('/ns/*', w.root);
      const mailbox = await w.server.createMailbox();
      const name = await w.server.aliasRegisterDirect('/ns/a', mailbox, app);
      expect(await refusedUnchanged(w, () => w.server.releaseNamespace('/ns/*', app))).toBe('BAD_REQUEST');
      await w.server.unregisterDirect('/ns/a', mailbox.location, name);
      await w.server.releaseNamespace('/ns/*', app);
    });
  });

  it('send answers MESSAGE_TOO_LARGE with the largest body it carries, and carries that body', async () => {
    await boot(async (w) => {
      let message = '';
      try {
        await w.client.send('/app/echo', new Uint8Array(65_536));
      } catch (error) {
        expect(isFosError(error) && error.code).toBe('MESSAGE_TOO_LARGE');
        message = String(error);
      }
      const largest = Number(/the largest body this send carries is (\d+) bytes/.exec(message)?.[1]);
      expect(largest).toBeGreaterThan(65_000);
      // The body's encoding has a header of its own (3 bytes for a byte array of this size).
      await w.client.send('/app/echo', new Uint8Array(largest - 3));
      expect(await codeOf(w.client.send('/app/echo', new Uint8Array(largest - 2)))).toBe('MESSAGE_TOO_LARGE');
      process.stdout.write(`largest Uint8Array body of send: ${largest - 3} bytes\n`);
    });
  });
});

const hostile = hostileValues();
const anyValue = fc.oneof(fc.anything(), fc.constantFrom(...hostile));

type Call = {
  readonly name: string;
  /** Well-formed arguments (each drawn from values that exist in the test world). */
  readonly valid: (w: World) => fc.Arbitrary<unknown[]>;
  readonly codes: readonly FosErrorCode[];
  readonly run: (w: World, args: unknown[]) => Promise<unknown>;
};

const names = fc.constantFrom('/app/echo', '/app/fleet', '/app/new', '/app/n/deep', '/missing');
const subdomains = fc.constantFrom('/app/*', '/new/*', '/app/n/*');
const capabilities = (w: World) => fc.constantFrom(w.root, w.direct, w.fleet, 'AAAAAAAAAAAAAAAAAAAAAA');
const locations = (w: World) => fc.constantFrom(w.mailbox.location, w.other.location);
const common: FosErrorCode[] = [
  'BAD_REQUEST',
  'INVALID_NAME',
  'PERMISSION_DENIED',
  'NO_SUCH_NAME',
  'NAME_EXISTS',
  'UNREACHABLE',
];

function libfosCalls(w: World): Call[] {
  const s = w.server;
  const c = w.client;
  return [
    {
      name: 'createMailbox',
      valid: () => fc.tuple(fc.constant(undefined)),
      codes: common,
      run: async (_, [o]) => s.kernel.destroyMailbox((await s.createMailbox(o as never)).location),
    },
    {
      name: 'aliasRegisterDirect',
      valid: (x) => fc.tuple(names, fc.constant(x.other), capabilities(x), fc.constant(undefined)),
      codes: common,
      run: (_, [a, b, d, e]) => s.aliasRegisterDirect(a as never, b as never, d as never, e as never),
    },
    {
      name: 'aliasRegisterIndirect',
      valid: (x) => fc.tuple(names, names, capabilities(x), fc.constant(undefined)),
      codes: [...common, 'CYCLE', 'LIMIT_EXCEEDED'],
      run: (_, [a, b, d, e]) => s.aliasRegisterIndirect(a as never, b as never, d as never, e as never),
    },
    {
      name: 'reserveNamespace',
      valid: (x) => fc.tuple(subdomains, capabilities(x)),
      codes: common,
      run: (_, [a, b]) => s.reserveNamespace(a as never, b as never),
    },
    {
      name: 'unregisterDirect',
      valid: (x) => fc.tuple(names, locations(x), capabilities(x)),
      codes: common,
      run: (_, [a, b, d]) => s.unregisterDirect(a as never, b as never, d as never),
    },
    {
      name: 'unregisterIndirect',
      valid: (x) => fc.tuple(names, names, capabilities(x)),
      codes: common,
      run: (_, [a, b, d]) => s.unregisterIndirect(a as never, b as never, d as never),
    },
    {
      name: 'unregisterName',
      valid: (x) => fc.tuple(fc.constantFrom('/app/new', '/missing'), capabilities(x)),
      codes: common,
      run: (_, [a, b]) => s.unregisterName(a as never, b as never),
    },
    {
      name: 'releaseNamespace',
      valid: (x) => fc.tuple(subdomains, capabilities(x)),
      codes: common,
      run: (_, [a, b]) => s.releaseNamespace(a as never, b as never),
    },
    {
      name: 'aliasResolve',
      valid: () => fc.tuple(names),
      codes: [...common, 'CYCLE'],
      run: (_, [a]) => c.aliasResolve(a as never),
    },
    {
      name: 'send',
      valid: () => fc.tuple(fc.constantFrom('/app/echo', '/missing'), fc.jsonValue(), fc.constant(undefined)),
      codes: [...common, 'MESSAGE_TOO_LARGE'],
      run: (_, [a, b, d]) => c.send(a as never, b as never, d as never),
    },
    {
      name: 'call',
      valid: () => fc.tuple(fc.constantFrom('/app/echo', '/missing'), fc.jsonValue(), fc.constant(undefined)),
      codes: [...common, 'MESSAGE_TOO_LARGE'],
      run: (_, [a, b, d]) => c.call(a as never, b as never, d as never),
    },
    {
      name: 'handOverMailbox',
      valid: (x) => fc.tuple(locations(x), locations(x), capabilities(x)),
      codes: [...common, 'LIMIT_EXCEEDED', 'UNREACHABLE'],
      run: (_, [a, b, d]) => s.handOverMailbox(a as never, b as never, d as never),
    },
    {
      name: 'serve',
      valid: (x) => fc.tuple(fc.constant(x.other.location), fc.constant({ handler: () => 1 })),
      codes: common,
      run: async (_, [a, b]) => s.serve(a as never, b as never),
    },
    {
      name: 'deactivate',
      valid: (x) => fc.tuple(fc.constantFrom('/missing', '/app/n/deep'), capabilities(x)),
      codes: common,
      run: (_, [a, b]) => s.deactivate(a as never, b as never),
    },
  ];
}

/** Well-formed arguments with one of them (at least) replaced by any value. */
function argumentsOf(w: World, call: Call): fc.Arbitrary<unknown[]> {
  return call
    .valid(w)
    .chain((valid) =>
      fc
        .tuple(fc.nat({ max: valid.length - 1 }), anyValue, fc.boolean())
        .map(([index, value, allHostile]) =>
          valid.map((item, at) => (at === index || (allHostile && at % 2 === 0) ? value : item)),
        ),
    );
}

describe('any value through every public call of libfos, against the real name service and kernel', () => {
  it('answers a documented FosError and, when refused, changes neither the name table nor the kernel names', async () => {
    const documented = documentedErrorCodes(
      readFileSync(new URL('../../../packages/libfos-messaging/README.md', import.meta.url), 'utf8'),
    );
    const met = new Set<string>();
    let calls = 0;
    const recent: string[] = [];
    await boot(async (w) => {
      w.server.serve(w.other.location, { handler: () => ({ other: true }) });
      const table = libfosCalls(w);
      const runs = tierCount({ fast: 10_000, long: 50_000 });
      const plan = fc
        .integer({ min: 0, max: table.length - 1 })
        .chain((index) => argumentsOf(w, table[index]!).map((args) => ({ index, args })));
      await fc.assert(
        fc.asyncProperty(plan, async ({ index, args }) => {
          const call = table[index]!;
          const before = await state(w).catch((error: unknown) => {
            throw new Error(`after ${recent.join(' ; ')}: ${String(error)}`);
          });
          calls++;
          recent.push(`${call.name}(${args.map((arg) => describeValue(arg)).join(', ')})`);
          if (recent.length > 4) recent.shift();
          try {
            await call.run(w, args);
          } catch (error) {
            if (!isFosError(error) || !call.codes.includes(error.code))
              throw new Error(
                `${call.name}(${args.map((arg) => describeValue(arg)).join(', ')}) threw ${String(error)}`,
              );
            met.add(error.code);
            expect(await state(w), `${call.name} refused with ${error.code} and changed something`).toBe(before);
          }
        }),
        { numRuns: runs, seed: 13 },
      );
      // The instance still works.
      expect((await w.client.call('/app/echo', 'still')).body).toBeDefined();
    });
    expect(calls).toBeGreaterThanOrEqual(10_000);
    expect([...met].filter((code) => !documented.has(code as FosErrorCode))).toEqual([]);
  }, 180_000);
});

describe('any value through boot, growFleet and shrinkFleet', () => {
  it('answers a documented FosError, and a refused fleet change leaves the fleet and the table as they were', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const documented = documentedErrorCodes(readme);
    const met = new Set<string>();
    const note = (error: unknown, what: string): void => {
      if (!isFosError(error)) throw new Error(`${what} threw ${String(error)}`);
      met.add(error.code);
    };
    // boot: options that are anything, or well-formed ones with one option replaced (refused before anything starts).
    const options = fc.oneof(
      anyValue,
      fc
        .tuple(fc.constantFrom('fabric', 'cores', 'seed', 'machine', 'limits', 'nameServers', 'extra'), anyValue)
        .map(([key, value]) => ({ fabric: 'local', cores: 2, nameServers: 0, [key]: value })),
    );
    await fc.assert(
      fc.asyncProperty(options, async (value) => {
        try {
          const instance = await boot_(value as never);
          await instance.shutdown();
        } catch (error) {
          note(error, `boot(${describeValue(value)})`);
        }
      }),
      { numRuns: tierCount({ fast: 1_000, long: 10_000 }), seed: 3 },
    );
    await withInstance({ fabric: 'local', cores: 3, nameServers: 2 }, async (instance) => {
      const service = instance.nameService!;
      const client = await spawnLibfos(instance, 2, 'client');
      const hash = async () => (await client.nameService.list({ capability: service.managementCapability })).tableHash;
      const before = await hash();
      const members = service.members.length;
      await fc.assert(
        fc.asyncProperty(anyValue, fc.boolean(), async (capability, grow) => {
          try {
            await (grow ? service.growFleet(capability as never) : service.shrinkFleet(capability as never));
          } catch (error) {
            note(error, `${grow ? 'growFleet' : 'shrinkFleet'}(${describeValue(capability)})`);
          }
          expect(service.members.length).toBe(members);
        }),
        { numRuns: tierCount({ fast: 1_000, long: 10_000 }), seed: 4 },
      );
      expect(await hash()).toBe(before);
    });
    expect([...met].filter((code) => !documented.has(code as FosErrorCode))).toEqual([]);
    expect(met.has('BAD_REQUEST') && met.has('PERMISSION_DENIED')).toBe(true);
  }, 180_000);
});
