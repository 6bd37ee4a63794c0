// Bad clients and a changing fleet, on the host's TCP (local fabric): a flood that never reads, a
// slowloris, a reset mid-request, a half-close, more connections than netif takes, a member leaving
// and a member crashing. Each is handled by a documented limit or timeout, no other connection is
// delayed past a stated bound, and nothing leaks (the connection names go).
import { createServer, type Server, type ServerOptions } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { serveHttp } from './http.js';
import { netErrnoOf } from './errors.js';
import { netConnectionsDomain } from './names.js';
import type { NetifInfo, NetMemberInfo } from './protocol.js';
import type { FosNet, FosServer, FosSocket } from './socket.js';
import { keepAliveGets, readAll, tcpConnect, tcpExchange, until } from './testing/clients.js';
import { netTestMachine, type NetTestMachine } from './testing/machine.js';

/** How long a well-behaved request may take while a bad client is at work (2 CPUs, busy CI). */
const otherConnectionBoundMs = 3000;

let machine: NetTestMachine | undefined;
afterEach(async () => {
  await machine?.shutdown();
  machine = undefined;
});

/** An echo service on fos sockets. */
async function echo(net: FosNet): Promise<FosServer> {
  const server = await net.listen(0);
  server.on('connection', (socket) => {
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  return server;
}

/** An HTTP service on fos sockets answering every request with its path. */
async function httpService(net: FosNet, options: ServerOptions = {}): Promise<{ server: FosServer; http: Server }> {
  const server = await net.listen(0);
  const http = createServer(options, (request, response) => {
    const body = `path ${request.url}`;
    response.setHeader('content-length', Buffer.byteLength(body));
    response.end(body);
  });
  serveHttp(server, http);
  return { server, http };
}

/** A request on a fresh connection that must be answered within the bound. */
async function timelyRequest(port: number, path: string): Promise<void> {
  const start = Date.now();
  expect(await keepAliveGets(port, [path])).toEqual([`path ${path}`]);
  expect(Date.now() - start).toBeLessThan(otherConnectionBoundMs);
}

async function namesGone(fos: NetTestMachine, expected = 0): Promise<void> {
  await until(async () => (await fos.names(netConnectionsDomain)).length === expected, 'the connection names to go');
}

describe('bad clients', () => {
  it('stops a client that sends 100 MiB without reading: the host socket is paused, memory stays bounded', async () => {
    machine = await netTestMachine('local');
    const { libfos, net } = await machine.process(3);
    const server = await echo(net);
    const other = await httpService(net);
    const flood = await tcpConnect(server.port);
    const chunk = Buffer.alloc(1024 * 1024, 7);
    let offered = 0;
    // Writes until 100 MiB are offered or the host stops taking them for a second (flow control).
    while (offered < 100 * 1024 * 1024) {
      offered += chunk.length;
      if (!flood.write(chunk)) {
        const drained = await Promise.race([
          new Promise<boolean>((resolve) => flood.once('drain', () => resolve(true))),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1000)),
        ]);
        if (!drained) break;
      }
    }
    const accepted = offered - flood.writableLength;
    // Taken by the host and fos together: the receive window, the member's buffer, the echo's
    // buffers and the host's socket buffers, never the 100 MiB.
    expect(accepted).toBeLessThan(32 * 1024 * 1024);
    const member = (await libfos.call(machine.fleet.members[0]!, { op: 'info' })).body as NetMemberInfo;
    expect(member.pausedWire).toBe(1);
    await timelyRequest(other.server.port, '/while-flooded');
    flood.destroy();
    await namesGone(machine);
    other.http.close();
  }, 60_000);

  it("ends a slowloris at the HTTP server's headers timeout and serves others meanwhile", async () => {
    machine = await netTestMachine('local');
    const { net } = await machine.process(3);
    const { server, http } = await httpService(net, {
      headersTimeout: 1000,
      requestTimeout: 1500,
      connectionsCheckingInterval: 100,
    });
    const slow = await tcpConnect(server.port);
    const received = readAll(slow);
    const start = Date.now();
    const request = 'GET /slow HTTP/1.1\r\nhost: fos\r\nx-slow: ' + 'y'.repeat(1000);
    let sent = 0;
    const dribble = setInterval(() => {
      if (!slow.destroyed && sent < request.length) slow.write(request[sent++]!);
    }, 50);
    await timelyRequest(server.port, '/meanwhile');
    const answer = (await received).toString();
    clearInterval(dribble);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - start).toBeLessThan(1500 + otherConnectionBoundMs);
    await namesGone(machine);
    http.close();
  }, 30_000);

  it('survives a reset in the middle of a request', async () => {
    machine = await netTestMachine('local');
    const { net } = await machine.process(3);
    const { server, http } = await httpService(net);
    const errors: (string | undefined)[] = [];
    http.on('clientError', (error) => errors.push(netErrnoOf(error)));
    const client = await tcpConnect(server.port);
    client.write('POST /upload HTTP/1.1\r\nhost: fos\r\ncontent-length: 100000\r\n\r\n' + 'x'.repeat(5000));
    await until(() => net.stats().bytesRead >= 5000, 'the partial request to arrive');
    client.resetAndDestroy();
    await until(() => errors.length > 0, 'the server to see the reset');
    expect(errors).toEqual(['ECONNRESET']);
    await timelyRequest(server.port, '/after-reset');
    await namesGone(machine);
    http.close();
  });

  it('keeps a half-closed connection open for the answer', async () => {
    machine = await netTestMachine('local');
    const { net } = await machine.process(3);
    const server = await echo(net);
    const client = await tcpConnect(server.port);
    const received = readAll(client);
    client.end('half-closed, still listening');
    expect((await received).toString()).toBe('half-closed, still listening');
    await namesGone(machine);
  });

  it('refuses connections past connectionsMax at netif, with a log line, and stays up', async () => {
    machine = await netTestMachine('local', { connectionsMax: 5 });
    const { libfos, net } = await machine.process(3);
    const server = await echo(net);
    const held = await Promise.all(Array.from({ length: 5 }, () => tcpConnect(server.port)));
    for (const socket of held) socket.write('x');
    await until(() => net.openConnections === 5, 'five connections');
    expect((await tcpExchange(server.port, 'refused?')).length).toBe(0);
    const netif = machine.fleet.netif;
    const netifInfo = async () => (await libfos.call(netif, { op: 'info' })).body as NetifInfo & { log: string[] };
    const info = await netifInfo();
    expect(info.refused).toBe(1);
    expect(info.log.join('\n')).toMatch(
      /refused a connection from 127\.0\.0\.1:\d+ to 127\.0\.0\.1:\d+: connectionsMax \(5\) connections are open/,
    );
    held[0]!.destroy();
    // The place is free once netif has closed its end of the connection (the owner may learn first).
    await until(() => net.openConnections === 4, 'a free place');
    await until(async () => (await netifInfo()).connections === 4, 'a free place at netif');
    expect((await tcpExchange(server.port, 'after the refusal')).toString()).toBe('after the refusal');
    for (const socket of held) socket.destroy();
    await namesGone(machine);
  });
});

describe('a changing fleet', () => {
  it("shrinkFleet: the leaving member's connections end after the grace, new ones go to the others", async () => {
    machine = await netTestMachine('local', { members: 2, leaveGraceMs: 500 });
    const { libfos, net } = await machine.process(3);
    const server = await echo(net);
    const infoOf = async (member: string) => (await libfos.call(member, { op: 'info' })).body as NetMemberInfo;
    const clients = await Promise.all(Array.from({ length: 12 }, () => tcpConnect(server.port)));
    const closed = clients.map((client) => readAll(client));
    for (const client of clients) client.write('ping');
    await until(() => net.openConnections === 12, 'twelve connections');
    const [staying, leaving] = machine.fleet.members as [string, string];
    const onLeaving = (await infoOf(leaving)).connections;
    const takenBefore = (await infoOf(staying)).taken;
    const shrunk = machine.fleet.shrinkFleet(machine.root);
    // New connections during the grace go to the staying member and work.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const fresh = await tcpConnect(server.port);
    const freshEcho = readAll(fresh);
    fresh.end('fresh');
    expect((await freshEcho).toString()).toBe('fresh');
    await shrunk;
    expect(machine.fleet.members).toEqual([staying]);
    expect((await infoOf(staying)).taken).toBe(takenBefore + 1);
    // Those of the leaving member were reset; the others still echo.
    const ended = await Promise.all(
      closed.map((done) =>
        Promise.race([done.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 200))]),
      ),
    );
    expect(ended.filter(Boolean).length).toBe(onLeaving);
    for (const [index, client] of clients.entries()) if (!ended[index]) client.end('!');
    await namesGone(machine);
  }, 30_000);

  it("a crashed member's connection names go with it; new connections go to the others", async () => {
    machine = await netTestMachine('local', { members: 2 });
    const { net } = await machine.process(3);
    const server = await echo(net);
    const clients = await Promise.all(Array.from({ length: 8 }, () => tcpConnect(server.port)));
    for (const client of clients) client.write('ping');
    await until(() => net.openConnections === 8, 'eight connections');
    // The victim is the member holding the most of them: picks weigh locality, so one member may
    // hold all eight.
    const { libfos } = await machine.process(1);
    const held = await Promise.all(
      machine.fleet.members.map(async (member) => ({
        member,
        connections: ((await libfos.call(member, { op: 'info' })).body as NetMemberInfo).connections,
      })),
    );
    const victim = held.reduce((most, next) => (next.connections > most.connections ? next : most)).member;
    machine.fleet.memberProcess(victim).kill();
    await until(() => machine!.fleet.crashed === 1, 'the crash to be seen');
    const remaining = machine.fleet.members;
    expect(remaining).not.toContain(victim);
    // The crashed member's connection names are gone with its aliases.
    await until(async () => (await machine!.names(netConnectionsDomain)).length < 8, 'its connection names to go');
    const fresh = await tcpConnect(server.port);
    const echoed = readAll(fresh);
    fresh.end('after the crash');
    expect((await echoed).toString()).toBe('after the crash');
    for (const client of clients) client.destroy();
    await namesGone(machine);
  }, 30_000);
});

describe('a process that ends without closing its sockets', () => {
  it('ends its sockets and their timers; its connections are reset and its port freed at the next use', async () => {
    machine = await netTestMachine('local');
    const { libfos, net } = await machine.process(3);
    const server = await net.listen(0);
    const sockets: FosSocket[] = [];
    server.on('connection', (socket) => {
      socket.on('error', () => undefined);
      socket.setTimeout(60_000);
      sockets.push(socket);
    });
    const serverClosed = new Promise<void>((resolve) => server.once('close', () => resolve()));
    const client = await tcpConnect(server.port);
    const clientEnded = readAll(client).catch(() => Buffer.alloc(0));
    client.write('hello');
    await until(() => sockets.length === 1, 'the connection');
    libfos.context.exit();
    await libfos.context.exited;
    await serverClosed;
    await until(() => sockets[0]!.destroyed, 'its socket to be destroyed');
    expect(net.openConnections).toBe(0);
    // The member learns at its next push to the ended process: the connection is reset.
    client.write('anyone there?');
    await clientEnded;
    // The next connection to the port finds its listener gone: refused, and the port is freed.
    const late = await tcpConnect(server.port);
    await readAll(late).catch(() => undefined);
    const { net: other } = await machine.process(2);
    const again = await other.listen(server.port);
    expect(again.port).toBe(server.port);
    await again.close();
    await namesGone(machine);
  });
});

describe('outbound connections and listening', () => {
  it('connects to a host service, talks, half-closes; a closed port is ECONNREFUSED', async () => {
    machine = await netTestMachine('local');
    const { net } = await machine.process(3);
    const host = createTcpServer({ allowHalfOpen: true }, (socket) => {
      socket.on('data', (chunk) => socket.write(chunk.toString().toUpperCase()));
      socket.on('end', () => socket.end());
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    const port = (host.address() as AddressInfo).port;
    const socket = await net.connect('127.0.0.1', port);
    expect(socket.remotePort).toBe(port);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const ended = new Promise((resolve) => socket.on('end', resolve));
    socket.end('from fos');
    await ended;
    expect(Buffer.concat(chunks).toString()).toBe('FROM FOS');
    host.close();
    const refused = await net.connect('127.0.0.1', port).catch((error: unknown) => error);
    expect(netErrnoOf(refused)).toBe('ECONNREFUSED');
    await namesGone(machine);
  });

  it('refuses a port listened on already (EADDRINUSE) and bad arguments (EINVAL)', async () => {
    machine = await netTestMachine('local');
    const { net } = await machine.process(3);
    const server = await net.listen(0);
    expect(netErrnoOf(await net.listen(server.port).catch((error: unknown) => error))).toBe('EADDRINUSE');
    const { net: other } = await machine.process(2);
    expect(netErrnoOf(await other.listen(server.port).catch((error: unknown) => error))).toBe('EADDRINUSE');
    for (const port of [-1, 65_536, 1.5, '80', Number.NaN])
      expect(netErrnoOf(await net.listen(port as number).catch((error: unknown) => error))).toBe('EINVAL');
    expect(netErrnoOf(await net.connect('', 80).catch((error: unknown) => error))).toBe('EINVAL');
    expect(netErrnoOf(await net.connect('127.0.0.1', 0).catch((error: unknown) => error))).toBe('EINVAL');
    await server.close();
    // Free again once closed.
    const again = await net.listen(server.port);
    expect(again.port).toBe(server.port);
    await again.close();
  });
});
