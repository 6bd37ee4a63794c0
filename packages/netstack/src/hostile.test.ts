// Any value through every request of netif, of a member and of a socket endpoint, and through every
// call of the socket component: a documented FosError (or an answer), never a crash, and nothing
// changed (no connection, listener or name more).
import { readFileSync } from 'node:fs';
import { describeValue, isFosError, type FosErrorCode } from '@fos/base';
import { documentedErrorCodes, hostileValues } from '@fos/base/testing';
import { tierCount } from '@fos/sim';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netErrnoOf } from './errors.js';
import { netConnectionsDomain } from './names.js';
import type { NetifInfo, NetMemberInfo } from './protocol.js';
import { tcpExchange } from './testing/clients.js';
import { netTestMachine, type NetTestMachine } from './testing/machine.js';

const documented = documentedErrorCodes(readFileSync(new URL('../README.md', import.meta.url), 'utf8'));
const anyValue = fc.oneof(fc.anything(), fc.constantFrom(...hostileValues()));
const conn = '0123456789abcdef0123456789abcdef';
// An address nothing here listens on or can listen on: whatever a bent request still asks works out to an error.
const nowhere = '203.0.113.1';

let fos: NetTestMachine;
beforeAll(async () => {
  fos = await netTestMachine('local');
});
afterAll(async () => {
  await fos.shutdown();
});

/** Well-formed requests of every kind, each of which a hostile plan bends one field of. */
const toNetif: Record<string, unknown>[] = [
  { op: 'listen', port: 1, host: nowhere, listener: '/tmp/nobody' },
  { op: 'unlisten', port: 1, listener: '/tmp/nobody' },
  { op: 'connect', host: '127.0.0.1', port: 1 },
  { op: 'ready', conn },
  { op: 'write', conn, bytes: new Uint8Array(3) },
  { op: 'end', conn },
  { op: 'destroy', conn },
  { op: 'pause', conn },
  { op: 'resume', conn },
  { op: 'info' },
];
const toMember: Record<string, unknown>[] = [
  {
    op: 'incoming',
    conn,
    listener: '/tmp/nobody',
    netif: '/sys/netif/0',
    local: { address: '127.0.0.1', port: 1 },
    remote: { address: '127.0.0.1', port: 2 },
  },
  { op: 'data', conn, seq: 0, bytes: new Uint8Array(2) },
  { op: 'eof', conn, seq: 1 },
  { op: 'closed', conn, seq: 2, error: 'x' },
  { op: 'listen', port: 1, host: nowhere, endpoint: '/tmp/nobody' },
  { op: 'unlisten', port: 1, endpoint: '/tmp/nobody' },
  { op: 'connect', host: '127.0.0.1', port: 1, endpoint: '/tmp/nobody' },
  { op: 'send', conn, bytes: new Uint8Array(1) },
  { op: 'ack', conn, bytes: 10 },
  { op: 'attach', conn },
  { op: 'shutdown', conn },
  { op: 'close', conn },
  { op: 'info' },
  { op: 'leave', capability: 'AAAAAAAAAAAAAAAAAAAAAA' },
];
const toEndpoint: Record<string, unknown>[] = [
  {
    op: 'incoming',
    conn,
    port: 1,
    local: { address: '127.0.0.1', port: 1 },
    remote: { address: '127.0.0.1', port: 2 },
  },
  { op: 'data', conn, bytes: new Uint8Array(2) },
  { op: 'eof', conn },
  { op: 'closed', conn, error: 'x' },
];

function bent(requests: Record<string, unknown>[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    anyValue,
    fc
      .tuple(fc.constantFrom(...requests), anyValue, fc.string({ maxLength: 8 }))
      .chain(([request, value, extra]) =>
        fc
          .constantFrom(...Object.keys(request), extra === '' ? 'extra' : extra)
          .map((key) => ({ ...request, [key]: value })),
      ),
  );
}

describe('any value through the wire', () => {
  it('is answered or refused with a documented code; netif, the member and the endpoint change nothing', async () => {
    const { libfos, net } = await fos.process(3);
    const server = await net.listen(0);
    server.on('connection', (socket) => socket.pipe(socket));
    const endpoint = await net.endpointName();
    const member = fos.fleet.members[0]!;
    const netifBefore = (await libfos.call(fos.fleet.netif, { op: 'info' })).body as NetifInfo;
    const met = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(fos.fleet.netif, member, endpoint),
        bent(toNetif),
        bent(toMember),
        bent(toEndpoint),
        async (target, netifBody, memberBody, endpointBody) => {
          const body = target === member ? memberBody : target === endpoint ? endpointBody : netifBody;
          try {
            await libfos.call(target, body as never);
          } catch (error) {
            if (!isFosError(error)) throw new Error(`${target} ${describeValue(body)} threw ${String(error)}`);
            met.add(error.code);
          }
        },
      ),
      { numRuns: tierCount({ fast: 2_000, long: 20_000 }), seed: 17 },
    );
    expect([...met].filter((code) => !documented.has(code as FosErrorCode))).toEqual([]);
    expect(met.has('BAD_REQUEST')).toBe(true);
    const netifAfter = (await libfos.call(fos.fleet.netif, { op: 'info' })).body as NetifInfo;
    expect([netifAfter.connections, netifAfter.listeners]).toEqual([netifBefore.connections, netifBefore.listeners]);
    expect(((await libfos.call(member, { op: 'info' })).body as NetMemberInfo).connections).toBe(0);
    expect(await fos.names(netConnectionsDomain)).toEqual([]);
    expect(fos.fleet.members).toEqual([member]);
    // Still serving.
    expect((await tcpExchange(server.port, 'still here')).toString()).toBe('still here');
    await net.close();
    await libfos.close();
  }, 120_000);
});

describe('any value through the socket component', () => {
  it('refuses with a documented code and a node:net errno', async () => {
    const { libfos, net } = await fos.process(2);
    const met = new Set<string>();
    const calls: ((value: unknown) => Promise<unknown>)[] = [
      (value) => net.listen(value as number),
      (value) => net.listen(0, value as never),
      (value) => net.listen(0, { host: nowhere, backlog: value as number }),
      (value) => net.connect(value as string, 0),
      (value) => net.connect('127.0.0.1', value as number),
    ];
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: calls.length - 1 }), anyValue, async (index, value) => {
        try {
          const answer = await calls[index]!(value);
          if (typeof answer === 'object' && answer !== null && 'close' in answer)
            await (answer as { close(): Promise<void> }).close();
          if (typeof answer === 'object' && answer !== null && 'destroy' in answer)
            (answer as { destroy(): void }).destroy();
        } catch (error) {
          if (!isFosError(error)) throw new Error(`call ${index} with ${describeValue(value)} threw ${String(error)}`);
          met.add(error.code);
          expect(netErrnoOf(error), String(error)).toBeDefined();
        }
      }),
      { numRuns: tierCount({ fast: 1_000, long: 10_000 }), seed: 18 },
    );
    expect([...met].filter((code) => !documented.has(code as FosErrorCode))).toEqual([]);
    expect(net.stats().listening).toBe(0);
    await net.close();
    await libfos.close();
  }, 120_000);
});
