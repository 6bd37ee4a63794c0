// The routing by name under SimFabric, over a simulated wire: seeded connections send seeded streams
// of segments (of every size, cut by netif into messages) to an echo service on fos sockets. For every
// seed, every connection gets back exactly what it sent, in order; no member ever sees a segment out
// of order; every connection's name is gone after the run. One connection in five is reset by its
// peer: it echoes a prefix, its socket ends with ECONNRESET (or EPIPE, when the echo wrote first). Some seeds delay the members' registration
// of connection names, so segments wait at netif first.
import type { SimFabric } from '@fos/microkernel';
import { runSeeds, SeededRandom, tierCount } from '@fos/sim';
import { describe, expect, it } from 'vitest';
import { netConnectionsDomain } from './names.js';
import type { NetMemberInfo } from './protocol.js';
import { netTestMachine } from './testing/machine.js';

/** One seeded run; returns what it saw (for the replay check). */
async function run(seed: number): Promise<string> {
  const random = new SeededRandom(seed).fork('streams');
  const registerDelayMs = seed % 3 === 0 ? 1 + random.nextInt(20) : undefined;
  const fos = await netTestMachine(
    'sim',
    { members: 1 + random.nextInt(3), ...(registerDelayMs === undefined ? {} : { registerDelayMs }) },
    { seed, cores: 5 },
  );
  const clock = (fos.machine.fabric as SimFabric).clock;
  try {
    const { libfos, net } = await fos.process(4);
    const server = await net.listen(80);
    const errors: string[] = [];
    server.on('connection', (socket) => {
      socket.on('error', (error: Error & { details?: { errno?: string } }) =>
        errors.push(error.details?.errno ?? 'none'),
      );
      socket.pipe(socket);
    });
    const connections = 2 + random.nextInt(6);
    const peers = Array.from({ length: connections }, () => {
      const peer = fos.wire!.dial(80);
      const sent: Uint8Array[] = [];
      const segments = 1 + random.nextInt(6);
      for (let index = 0; index < segments; index++) {
        // Sizes from one byte to several netif segments.
        const bytes = new Uint8Array(1 + random.nextInt(random.nextInt(4) === 0 ? 40_000 : 600));
        random.fillBytes(bytes);
        sent.push(bytes);
        peer.send(bytes);
      }
      // One connection in five is reset by its peer instead of half-closed.
      const reset = random.nextInt(5) === 0;
      if (reset) peer.reset();
      else peer.end();
      return { peer, sent: Buffer.concat(sent), reset };
    });
    const deadline = new Promise<never>((_, reject) =>
      clock.setTimer(120_000, () => reject(new Error(`seed=${seed}: the connections did not close in 120 s`))),
    );
    await Promise.race([Promise.all(peers.map(({ peer }) => peer.whenClosed)), deadline]);
    for (const [index, { peer, sent, reset }] of peers.entries()) {
      const received = Buffer.concat(peer.received);
      // A reset connection echoes a prefix of what it sent (what reached the service before the reset).
      if (reset)
        expect(sent.subarray(0, received.length).equals(received), `seed=${seed} connection ${index}`).toBe(true);
      else expect(received.equals(sent), `seed=${seed} connection ${index}`).toBe(true);
    }
    expect(
      errors.every((errno) => errno === 'ECONNRESET' || errno === 'EPIPE'),
      `seed=${seed}: ${errors.join(' ')}`,
    ).toBe(true);
    const infos = await Promise.all(
      fos.fleet.members.map(async (member) => (await libfos.call(member, { op: 'info' })).body as NetMemberInfo),
    );
    expect(
      infos.reduce((sum, info) => sum + info.outOfOrder, 0),
      `seed=${seed}`,
    ).toBe(0);
    expect(
      infos.reduce((sum, info) => sum + info.taken, 0),
      `seed=${seed}`,
    ).toBe(connections);
    // Every name goes once its connection ended (the last unregistrations may still be on their way).
    for (let wait = 0; (await fos.names(netConnectionsDomain)).length > 0; wait++) {
      expect(wait, `seed=${seed}: connection names left`).toBeLessThan(100);
      await new Promise<void>((resolve) => clock.setTimer(10, resolve));
    }
    await net.close();
    await libfos.close();
    return infos.map((info) => `${info.member}:${info.taken}:${info.segments}`).join(' ');
  } finally {
    await fos.shutdown();
  }
}

describe('routing by name under simulation', () => {
  it("delivers every connection's bytes in order, for every seed", async () => {
    await runSeeds(async (seed) => void (await run(seed)), {
      seeds: tierCount({ fast: 200, long: 1000 }),
      seedStart: 1,
    });
  }, 900_000);

  it('replays a seed exactly', async () => {
    expect(await run(9)).toBe(await run(9));
  });
});
