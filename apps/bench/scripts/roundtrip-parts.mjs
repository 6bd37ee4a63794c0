// Where a same-core fos round trip goes (apps/bench README, "Why a same-core round trip costs what it costs"):
// times one MessageChannel hop, the codec of a request envelope and a capability hash, and counts the
// fabric messages and hashes of a dispatcher call between two processes on one core. Build first, then
// `node apps/bench/scripts/roundtrip-parts.mjs`.
/* global console, performance, MessageChannel */
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
let hashes = 0;
const real = crypto.createHash;
crypto.createHash = (...a) => {
  hashes++;
  return real(...a);
};
syncBuiltinESMExports();
const { encodeBody, decodeBody } = await import('@fos/base');
const { LocalFabric, Machine } = await import('@fos/microkernel');
const { createDispatcher } = await import('@fos/dispatcher');
const { ukSendFunction } = await import('@fos/libfos-messaging');
const N = 20000;
// 1. MessageChannel hop (same thread), a deliver-like message with transferred bytes
{
  const { port1, port2 } = new MessageChannel();
  const bytes = encodeBody({ body: new Uint8Array(64) });
  let left = N;
  let t;
  await new Promise((resolve) => {
    port2.on('message', (m) => port2.postMessage(m.bytes ? { kind: 'ack', seq: m.seq } : m));
    port1.on('message', () => {
      if (--left === 0) resolve();
      else {
        const b = bytes.slice();
        port1.postMessage({ kind: 'deliver', seq: left, bytes: b }, [b.buffer]);
      }
    });
    t = performance.now();
    const b = bytes.slice();
    port1.postMessage({ kind: 'deliver', seq: left, bytes: b }, [b.buffer]);
  });
  const us = ((performance.now() - t) * 1000) / N / 2;
  console.log('MessageChannel one hop (post + receive), µs:', us.toFixed(2));
  port1.close();
}
// 2. codec of a request envelope
{
  const env = {
    fos: 'request',
    token: 12,
    replyTo: {
      name: '/bench/rpc-client/reply',
      location: { machine: 'm', core: 1, mailbox: 3 },
      capability: 'AAAAAAAAAAAAAAAAAAAAAA',
    },
    budget: 30000,
    body: { rpc: 3880343470, args: { payload: new Uint8Array(64) } },
  };
  for (let i = 0; i < 2000; i++) decodeBody(encodeBody(env));
  const t = performance.now();
  for (let i = 0; i < N; i++) decodeBody(encodeBody(env));
  console.log(
    'encode+decode of a request envelope, µs:',
    (((performance.now() - t) * 1000) / N).toFixed(2),
    'bytes',
    encodeBody(env).length,
  );
}
// 3. capability hash
{
  const { hashCapability } = await import('@fos/microkernel');
  const cap = 'qNw9XWmm2Ac8H36tYIrXHQ';
  const t = performance.now();
  for (let i = 0; i < N; i++) hashCapability(cap);
  console.log('hashCapability, µs:', (((performance.now() - t) * 1000) / N).toFixed(2));
}
// 4. hashes and fabric messages per same-core dispatcher round trip
{
  const fabric = new LocalFabric({ cores: 2 });
  let posts = 0;
  const connect = fabric.connect.bind(fabric);
  fabric.connect = (core, receive) => {
    const link = connect(core, receive);
    return {
      post: (to, m) => {
        posts++;
        link.post(to, m);
      },
    };
  };
  const machine = new Machine({ fabric });
  const make = async (name) => {
    let made;
    await machine.spawn({
      core: 1,
      name,
      function: async (context) => {
        made = {
          context,
          dispatcher: await createDispatcher(context, {
            send: ukSendFunction(context.kernel, context.clock),
            replyName: `/bench/${name}/reply`,
          }),
        };
      },
    });
    return made;
  };
  const server = await make('s');
  const client = await make('c');
  const mb = await server.context.kernel.createMailbox();
  await server.context.kernel.addName(mb.location, '/bench/e');
  server.dispatcher.register(mb.location, { handler: (r) => r.body });
  const to = { name: '/bench/e', location: mb.location, capability: mb.capability };
  const payload = new Uint8Array(64);
  const M = 5000;
  await client.dispatcher.spawnThread('w', async (thread) => {
    for (let i = 0; i < 500; i++) await thread.call(to, payload);
  });
  hashes = 0;
  posts = 0;
  const t = performance.now();
  await client.dispatcher.spawnThread('w', async (thread) => {
    for (let i = 0; i < M; i++) await thread.call(to, payload);
  });
  const us = ((performance.now() - t) * 1000) / M;
  console.log(
    'dispatcher call same core: µs per round trip',
    us.toFixed(1),
    'fabric posts per round trip',
    posts / M,
    'hashes per round trip',
    hashes / M,
  );
  await machine.shutdown();
}
