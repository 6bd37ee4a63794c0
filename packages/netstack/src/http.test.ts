// End to end on the host's TCP: a stock node:http server fed with fos connections answers real HTTP/1.1
// clients, keep-alive included, and every connection's name goes when it closes.
import { createServer, request as httpRequest, Agent } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { serveHttp } from './http.js';
import { netConnectionsDomain } from './names.js';
import { netTestMachine, type NetTestMachine } from './testing/machine.js';

let machine: NetTestMachine | undefined;
afterEach(async () => {
  await machine?.shutdown();
  machine = undefined;
});

function get(port: number, path: string, agent: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('HTTP on fos sockets (local fabric, the host TCP)', () => {
  it('serves keep-alive requests over several connections and removes every connection name', async () => {
    machine = await netTestMachine('local', { members: 2 });
    const { net } = await machine.process(3);
    const server = await net.listen(0);
    const http = createServer((request, response) => {
      response.setHeader('content-type', 'text/plain');
      response.end(`hello ${request.url} from ${request.socket.remoteAddress}`);
    });
    serveHttp(server, http);
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, index) => get(server.port, `/item/${index}`, agent)),
    );
    for (const [index, answer] of answers.entries()) {
      expect(answer.status).toBe(200);
      expect(answer.body).toBe(`hello /item/${index} from 127.0.0.1`);
    }
    expect(net.stats().accepted).toBeLessThanOrEqual(4);
    expect((await machine.names(netConnectionsDomain)).length).toBeGreaterThan(0);
    agent.destroy();
    await until(async () => (await machine!.names(netConnectionsDomain)).length === 0, 'the connection names to go');
    await until(async () => net.openConnections === 0, 'the sockets to close');
    http.close();
    await server.close();
  });

  it("lets request handlers call libfos: they run outside the endpoint's dispatcher threads", async () => {
    machine = await netTestMachine('local');
    const { libfos, net } = await machine.process(3);
    const server = await net.listen(0);
    const http = createServer((_request, response) => {
      // A libfos call straight from the handler (it starts a thread of its own).
      void libfos.aliasResolve('/sys/netstack').then((resolved) => response.end(resolved.chain.join(' -> ')));
    });
    serveHttp(server, http);
    const agent = new Agent({ keepAlive: false });
    const answer = await get(server.port, '/', agent);
    expect(answer.body).toBe('/sys/netstack -> /sys/netstack/0');
    await server.close();
  });
});
