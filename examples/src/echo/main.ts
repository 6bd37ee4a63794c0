// The echo example: boot an instance, start an echo service under a name, and call it by that name
// from a client on another core. Run it built: `node examples/dist/echo/main.js [worker|local]`.
import { boot } from '@fos/system';
import type { Capability } from '@fos/microkernel';

// 'worker' runs each core on a worker thread of its own; 'local' runs every core in this thread. The
// processes below are spawned from a module and an entry, so the same code runs on both.
const fabric = process.argv[2] ?? 'worker';
if (fabric !== 'worker' && fabric !== 'local') throw new Error(`usage: main.js [worker|local], not ${fabric}`);

const fos = await boot({ fabric, cores: 3 }); // the name service runs on core 0
try {
  console.log(`echo: booted ${fos.cores} cores on the ${fabric} fabric, the name service on core 0`);
  const services = new URL('./services.js', import.meta.url);

  // Whoever boots holds the root capability of the name space (`/*`). Hand a service only what it
  // needs: a one-shot process reserves `/demo/*`, and only that capability goes to the server.
  const root = fos.nameService!.rootCapability;
  const reserved = await fos.spawn({ core: 1, module: services, entry: 'reserveDemo', args: { root } });
  const { demo } = reserved.result as { demo: Capability }; // spawn answers a copy of what the entry returned
  console.log('echo: reserved /demo/* for the echo server');

  const server = await fos.spawn({ core: 1, module: services, entry: 'echoServer', args: { demo } });
  console.log(`echo: the server on core ${(server.result as { core: number }).core} registered /demo/echo`);

  const client = await fos.spawn({ core: 2, module: services, entry: 'echoClient', args: { text: 'hello, fos' } });
  const { core, mailbox, reply } = client.result as { core: number; mailbox: string; reply: unknown };
  console.log(`echo: the client on core ${core} resolved /demo/echo to mailbox ${mailbox}`);
  console.log(`echo: it called /demo/echo and got ${JSON.stringify(reply)}`);
} finally {
  await fos.shutdown(); // ends every process and closes every worker, port and timer
}
