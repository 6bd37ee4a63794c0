// The rpc example: a key-value service written against an interface file (kv-api.ts), served through
// the stubs fos-rpcgen generated from it, and a client calling it by name through the typed client.
// Run it built: `node examples/dist/rpc/main.js`.
import { boot } from '@fos/system';
import type { Capability } from '@fos/microkernel';

const fos = await boot({ fabric: 'worker', cores: 3 }); // the name service on core 0
try {
  const services = new URL('./services.js', import.meta.url);
  const root = fos.nameService!.rootCapability;
  const reserved = await fos.spawn({ core: 1, module: services, entry: 'reserveDemo', args: { root } });
  const { demo } = reserved.result as { demo: Capability };
  const server = await fos.spawn({ core: 1, module: services, entry: 'kvServer', args: { demo } });
  console.log(`rpc: the key-value service on core ${(server.result as { core: number }).core} registered /demo/kv`);

  const client = await fos.spawn({ core: 2, module: services, entry: 'kvClient', args: {} });
  for (const line of (client.result as { lines: string[] }).lines) console.log(`rpc: ${line}`);
} finally {
  await fos.shutdown();
}
