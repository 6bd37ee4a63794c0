import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalFabric, Machine, type ProcessContext } from '@fos/microkernel';
import { encodeFrame } from './frames.js';
import type { ByteLink } from './link.js';
import { startProxy } from './proxy.js';
import {
  connectTls,
  listenTls,
  newClusterKeyText,
  parseAddress,
  parseClusterKey,
  readClusterKeyFile,
  writeClusterKeyFile,
  type TlsListener,
} from './tls.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const key = parseClusterKey(newClusterKeyText());

async function listener(onLink: (link: ByteLink) => void, refused: string[] = []): Promise<TlsListener> {
  const server = await listenTls({ key, onLink, onRefused: (reason) => refused.push(reason) });
  cleanups.push(() => server.close());
  return server;
}

/** Waits `ms` of real time (the network is real here). */
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the TLS transport', () => {
  it('joins two machines over TLS with the cluster key: a send reaches the other machine and is answered', async () => {
    const made: Machine[] = [];
    cleanups.push(async () => {
      for (const machine of made) await machine.shutdown();
    });
    const machineWithProxy = async (name: string) => {
      const machine = new Machine({ fabric: new LocalFabric({ cores: 2 }), machine: name, log: () => {} });
      made.push(machine);
      let context: ProcessContext | undefined;
      await machine.spawn({ core: 1, name: 'proxy', function: (c) => void (context = c) });
      return { machine, proxy: await startProxy(context!, { kernelCapability: machine.kernelCapability }) };
    };
    const a = await machineWithProxy('alpha');
    const b = await machineWithProxy('beta');
    const accepted: Array<Promise<unknown>> = [];
    const server = await listener((link) => accepted.push(b.proxy.addLink(link)));
    const link = await connectTls(server.address, key);
    const peer = await a.proxy.addLink(link);
    expect(peer.machine).toBe('beta');
    await Promise.all(accepted);
    let serverContext: ProcessContext | undefined;
    await b.machine.spawn({ core: 0, name: 'server', function: (c) => void (serverContext = c) });
    let clientContext: ProcessContext | undefined;
    await a.machine.spawn({ core: 0, name: 'client', function: (c) => void (clientContext = c) });
    const mailbox = await serverContext!.kernel.createMailbox();
    await serverContext!.kernel.addName(mailbox.location, '/svc/echo');
    await clientContext!.kernel.ukSend('/svc/echo', mailbox.location, mailbox.capability, { over: 'tls' });
    const received = await serverContext!.kernel.receive(mailbox.location);
    expect(received.body).toEqual({ over: 'tls' });
    expect(received.sender.machine).toBe('alpha');
    const wrong = (await clientContext!.kernel.createMailbox()).capability;
    await expect(clientContext!.kernel.ukSend('/svc/echo', mailbox.location, wrong, 1)).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
    });
  });

  it('lets no one in without the key: a wrong key, no key, plain TCP and a replayed handshake', async () => {
    const links: ByteLink[] = [];
    const refused: string[] = [];
    const server = await listener((link) => links.push(link), refused);
    const { host, port } = parseAddress(server.address);

    // A wrong key.
    const other = parseClusterKey(newClusterKeyText());
    await expect(connectTls(server.address, other)).rejects.toMatchObject({ code: 'UNREACHABLE' });

    // TLS without a key (a certificate handshake): there is no certificate to offer.
    await new Promise<void>((resolve) => {
      const socket = tls.connect({ host, port, rejectUnauthorized: false });
      socket.on('error', () => resolve());
      socket.on('secureConnect', () => {
        socket.destroy();
        resolve();
      });
    });

    // Plain TCP speaking the proxy's frames.
    const plainClosed = new Promise<void>((resolve) => {
      const socket = net.connect({ host, port }, () => {
        socket.write(encodeFrame({ type: 'hello', protocol: 1, machine: 'intruder', listen: null }, 65536));
      });
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
    });
    await plainClosed;

    // A replay: the bytes a real client sent, relayed once, sent again on a new connection.
    const recorded: Buffer[] = [];
    const relay = net.createServer((inbound) => {
      const outbound = net.connect({ host, port });
      inbound.on('data', (chunk: Buffer) => {
        recorded.push(Buffer.from(chunk));
        outbound.write(chunk);
      });
      outbound.on('data', (chunk: Buffer) => inbound.write(chunk));
      inbound.on('error', () => outbound.destroy());
      outbound.on('error', () => inbound.destroy());
      inbound.on('close', () => outbound.destroy());
      outbound.on('close', () => inbound.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => relay.close(() => resolve())));
    const relayPort = (relay.address() as net.AddressInfo).port;
    const genuine = await connectTls(`127.0.0.1:${relayPort}`, key);
    genuine.open({ data: () => {}, drain: () => {}, closed: () => {} });
    genuine.write(encodeFrame({ type: 'hello', protocol: 1, machine: 'genuine', listen: null }, 65536));
    await pause(50);
    genuine.close('done');
    expect(links).toHaveLength(1);
    const replayed: Buffer[] = [];
    await new Promise<void>((resolve) => {
      const socket = net.connect({ host, port }, () => socket.write(Buffer.concat(recorded)));
      socket.on('data', (chunk: Buffer) => replayed.push(chunk));
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 2000).unref();
    });
    await pause(20);
    // Only the genuine connection was ever authenticated; the other four were refused in the handshake.
    expect(links).toHaveLength(1);
    expect(refused).toHaveLength(4);
  });

  it('parses addresses and refuses what is not host:port', () => {
    expect(parseAddress('10.0.0.1:7000')).toEqual({ host: '10.0.0.1', port: 7000 });
    expect(parseAddress('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(parseAddress('node-3.example:443')).toEqual({ host: 'node-3.example', port: 443 });
    for (const bad of ['10.0.0.1', 'host:0', 'host:65536', ':80', 'a b:1', ''])
      expect(() => parseAddress(bad)).toThrow(/BAD_REQUEST/);
  });
});

describe('cluster key files', () => {
  it('writes a key readable by its owner only, never overwrites one, and refuses a bad or open file', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'fos-key-'));
    cleanups.push(() => rm(folder, { recursive: true, force: true }));
    const path = join(folder, 'cluster.key');
    await writeClusterKeyFile(path);
    const read = await readClusterKeyFile(path);
    expect(read.psk).toHaveLength(32);
    await expect(writeClusterKeyFile(path)).rejects.toMatchObject({ code: 'CONFLICT' });
    await chmod(path, 0o644);
    await expect(readClusterKeyFile(path)).rejects.toThrow(/may be read by others/);
    const bad = join(folder, 'bad.key');
    await writeFile(bad, 'not a key\n', { mode: 0o600 });
    await expect(readClusterKeyFile(bad)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(readClusterKeyFile(join(folder, 'missing.key'))).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    // Two files, two clusters: the derived keys differ.
    expect(parseClusterKey(newClusterKeyText()).psk.equals(parseClusterKey(newClusterKeyText()).psk)).toBe(false);
  });
});
