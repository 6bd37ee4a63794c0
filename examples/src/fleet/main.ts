// The fleet example: three echo members behind one name, `/demo/echo`, with weights 1, 1 and 2; a
// client calls the name and counts which member answered. Run it built: `node examples/dist/fleet/main.js`.
import { boot } from '@fos/system';
import type { Capability } from '@fos/microkernel';

/** How long a client may keep a Lookup's answer (10 s by default; short here so the spread shows). */
const lookupTtlMs = 10;
const members = [
  { name: '/demo/echo/1', weight: 1 },
  { name: '/demo/echo/2', weight: 1 },
  { name: '/demo/echo/3', weight: 2 },
];

const fos = await boot({ fabric: 'local', cores: 4, nameServiceLimits: { lookupTtlMs } });
try {
  console.log(`fleet: booted ${fos.cores} cores; a Lookup's answer is kept ${lookupTtlMs} ms in a name cache`);
  const services = new URL('./services.js', import.meta.url);
  const root = fos.nameService!.rootCapability;
  const reserved = await fos.spawn({ core: 1, module: services, entry: 'reserveDemo', args: { root } });
  const { demo } = reserved.result as { demo: Capability };

  // Member i on core i; the name service and, below, the client on core 0. A Lookup favours members on
  // the asker's own core, so a client beside no member sees the weights alone.
  for (const [index, member] of members.entries()) {
    await fos.spawn({ core: index + 1, module: services, entry: 'echoMember', args: { ...member, demo } });
    console.log(`fleet: ${member.name} on core ${index + 1} joined /demo/echo with weight ${member.weight}`);
  }

  // 60 rounds of 5 calls with a pause that outlasts the TTL after each: every round's first call finds
  // the cache expired and looks the fleet's name up again, a new pick by weight.
  const rounds = 60;
  const calls = 5;
  const args = { rounds, calls, pauseMs: 2 * lookupTtlMs };
  const client = await fos.spawn({ core: 0, module: services, entry: 'fleetClient', args });
  const { answered, lookups } = client.result as { answered: Record<string, number>; lookups: number };
  console.log(`fleet: the client called /demo/echo ${rounds * calls} times, in ${rounds} rounds of ${calls}`);
  // A round's first call looks up /demo/echo, then the member's name it led to: two Lookups a round.
  console.log(`fleet: its libfos made ${lookups} Lookups; its name cache answered the other sends`);
  for (const { name } of members) console.log(`fleet: ${name} answered ${answered[name] ?? 0}`);
} finally {
  await fos.shutdown();
}
