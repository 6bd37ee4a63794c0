// Load on the host's TCP (local fabric): 1,000 concurrent keep-alive connections, each with several
// requests, all answered; every connection's name goes after it closes; memory stays bounded.
import { createServer } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { serveHttp } from './http.js';
import { netConnectionsDomain } from './names.js';
import type { NetifInfo, NetMemberInfo } from './protocol.js';
import { keepAliveGets, until } from './testing/clients.js';
import { netTestMachine, type NetTestMachine } from './testing/machine.js';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

let machine: NetTestMachine | undefined;
afterEach(async () => {
  await machine?.shutdown();
  machine = undefined;
});

describe('many connections', () => {
  it('answers 1,000 concurrent keep-alive connections of 3 requests each, twice; every name and table entry goes', async () => {
    machine = await netTestMachine('local', { members: 2 });
    const { libfos, net } = await machine.process(3);
    const server = await net.listen(0, { backlog: 2048 });
    const http = createServer({ keepAliveTimeout: 60_000 }, (request, response) => {
      const body = `answer to ${request.url}`;
      response.setHeader('content-length', Buffer.byteLength(body));
      response.end(body);
    });
    serveHttp(server, http);
    const namesBefore = (await machine.names(netConnectionsDomain)).length;
    const connections = 1000;
    const wave = async () => {
      const bodies = await Promise.all(
        Array.from({ length: connections }, (_, index) =>
          keepAliveGets(server.port, [`/${index}/a`, `/${index}/b`, `/${index}/c`]),
        ),
      );
      for (const [index, answers] of bodies.entries())
        expect(answers).toEqual([`answer to /${index}/a`, `answer to /${index}/b`, `answer to /${index}/c`]);
      await until(async () => (await machine!.names(netConnectionsDomain)).length === namesBefore, 'the names to go');
      await until(() => net.openConnections === 0, 'the sockets to close');
      // Every table is back where it started: netif's, each member's.
      const netif = (await libfos.call(machine!.fleet.netif, { op: 'info' })).body as NetifInfo;
      expect(netif.connections).toBe(0);
      for (const member of machine!.fleet.members)
        expect(((await libfos.call(member, { op: 'info' })).body as NetMemberInfo).connections).toBe(0);
    };
    await wave();
    gc();
    const heapAfterFirst = process.memoryUsage().heapUsed;
    await wave();
    expect(net.stats().accepted).toBe(2 * connections);
    gc();
    // Bounded: a second wave of 1,000 connections leaves (next to) nothing behind.
    expect(process.memoryUsage().heapUsed - heapAfterFirst).toBeLessThan(8 * 1024 * 1024);
    http.close();
    await server.close();
  }, 120_000);
});
