// The wire against a running machine of a multi-machine instance: 100,000 malformed, truncated,
// oversized and random frames over connections to its proxy, and unauthenticated connection attempts
// at its TLS listener (plain TCP, TLS with a wrong key, random bytes). Nothing crashes, nothing is
// delivered, the name table stays as it was, memory stays bounded, and a real peer still gets through.
import { connect } from 'node:net';
import { codeOf } from '@fos/base/testing';
import { connectTls, encodeFrame, linkPair, newClusterKeyText, parseClusterKey, type Frame } from '@fos/proxy';
import { SeededRandom } from '@fos/sim';
import { describe, expect, it } from 'vitest';
import { boot } from './index.js';
import { RemoteAgent, rootOf } from './testing.js';

const bytesMax = 65536;
const framesTotal = 100_000;
const framesPerConnection = 20;
const unauthenticatedAttempts = 300;

/** A valid frame with a few bytes changed, cut or extended; or plain random bytes; or a huge length. */
function hostileFrame(random: SeededRandom, valid: readonly Uint8Array[]): Uint8Array {
  const kind = random.nextInt(5);
  if (kind === 0) {
    const bytes = new Uint8Array(random.nextInt(64));
    random.fillBytes(bytes);
    return bytes;
  }
  if (kind === 4) return Uint8Array.of(0x7f, random.nextInt(256), random.nextInt(256), random.nextInt(256), 2, 0, 1);
  const base = valid[random.nextInt(valid.length)]!.slice();
  if (kind === 1) {
    for (let flips = 1 + random.nextInt(3); flips > 0; flips--) base[random.nextInt(base.length)] = random.nextInt(256);
    return base;
  }
  if (kind === 2) return base.subarray(0, random.nextInt(base.length));
  const longer = new Uint8Array(base.length + 1 + random.nextInt(8));
  longer.set(base);
  return longer;
}

/** Resolves once the socket closes (the listener dropped it), or after `ms`. */
function closedWithin(socket: { once(event: 'close', listener: () => void): unknown }, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe('the wire of a running machine', () => {
  it(`takes ${framesTotal.toLocaleString('en')} hostile frames and ${unauthenticatedAttempts} unauthenticated connections: no crash, no delivery, one table`, async () => {
    const clusterKey = parseClusterKey(newClusterKeyText());
    const logs: string[] = [];
    const alpha = await boot({
      fabric: 'local',
      machine: 'alpha',
      listen: '127.0.0.1:0',
      clusterKey,
      log: (line) => logs.push(line),
    });
    const beta = await boot({ fabric: 'local', machine: 'beta', join: alpha.cluster!.listen!, clusterKey });
    try {
      const root = rootOf(alpha);
      const server = await RemoteAgent.spawn(alpha, 1, 'server');
      const mailbox = await server.createMailbox('/svc/target');
      await server.aliasRegisterDirect('/svc/target', mailbox, root);
      const management = alpha.nameService!.managementCapability;
      const before = await server.list(management);
      const heapBefore = process.memoryUsage().heapUsed;

      const random = new SeededRandom(Number(process.env.SIM_SEED ?? 11));
      const wrongDeliver: Frame = {
        type: 'deliver',
        id: 1,
        sender: { machine: 'mallory', core: 0, process: 'mallory.0.1' },
        location: mailbox.location,
        destinationName: '/svc/target',
        capability: 'AAAAAAAAAAAAAAAAAAAAAA',
        sequence: 0,
        bytes: new Uint8Array([0x90]),
      };
      const valid = [
        wrongDeliver,
        { ...wrongDeliver, sender: { machine: 'beta', core: 0, process: 'beta.0.1' } },
        { ...wrongDeliver, destinationName: '/svc/other' },
        { type: 'skip', sender: wrongDeliver.sender, location: mailbox.location, sequence: 3 },
        { type: 'answer', id: 77 },
        { type: 'reply', id: 5, body: new Uint8Array([0xc0]) },
        { type: 'ask', id: 1, topic: 'fos.nothing', body: new Uint8Array([0xc0]) },
        { type: 'hello', protocol: 1, machine: 'mallory', listen: null },
        { type: 'refuse', reason: 'no' },
      ].map((frame) => encodeFrame(frame as Frame, bytesMax));
      let frames = 0;
      let connection = 0;
      while (frames < framesTotal) {
        const [inside, outside] = linkPair([`mallory${connection}`, 'alpha']);
        const introduced = alpha.cluster!.proxy.addLink(inside).catch(() => undefined);
        outside.open({ data: () => {}, drain: () => {}, closed: () => {} });
        if (random.nextInt(2) === 0)
          outside.write(
            encodeFrame({ type: 'hello', protocol: 1, machine: `mallory${connection}`, listen: null }, bytesMax),
          );
        for (let count = 0; count < framesPerConnection; count++, frames++) outside.write(hostileFrame(random, valid));
        outside.close('done');
        await introduced;
        connection++;
      }
      // Unauthenticated: plain TCP with random bytes, TLS with another key.
      const [host, port] = alpha.cluster!.listen!.split(':') as [string, string];
      const otherKey = parseClusterKey(newClusterKeyText());
      let refusedTls = 0;
      for (let attempt = 0; attempt < unauthenticatedAttempts; attempt++) {
        if (attempt % 2 === 0) {
          const socket = connect({ host, port: Number(port) });
          socket.on('error', () => {});
          const bytes = new Uint8Array(1 + random.nextInt(512));
          random.fillBytes(bytes);
          socket.write(bytes);
          expect(await closedWithin(socket, 15_000), `plain TCP attempt ${attempt} is dropped`).toBe(true);
        } else if ((await codeOf(connectTls(alpha.cluster!.listen!, otherKey))) === 'UNREACHABLE') refusedTls++;
      }
      expect(refusedTls).toBe(unauthenticatedAttempts / 2);

      // Nothing was delivered, the table is as it was, the proxy holds only its real peer.
      await server.settle(20);
      expect(await server.received()).toEqual([]);
      expect((await server.list(management)).tableHash).toBe(before.tableHash);
      expect(alpha.cluster!.proxy.peers().map((peer) => peer.machine)).toEqual(['beta']);
      expect(alpha.cluster!.proxy.stats().connections).toBe(1);
      expect(alpha.cluster!.proxy.stats().refusedFrames).toBeGreaterThan(connection / 4);
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(256 * 1024 * 1024);
      // A real peer still gets through.
      const client = await RemoteAgent.spawn(beta, 1, 'client');
      await client.send('/svc/target', 'still here');
      await server.settle(20);
      expect(await server.received()).toEqual(['/svc/target:"still here"']);
    } finally {
      await beta.shutdown();
      await alpha.shutdown();
    }
  }, 300_000);
});
