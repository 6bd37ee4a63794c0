// Runs the fleet example (fleet/main.ts) as its README says and checks what it prints.
import { expect, it } from 'vitest';
import { runBuiltExample } from './built.js';

it('spreads 300 calls to /demo/echo over the three members of the fleet', async () => {
  const lines = await runBuiltExample('fleet');
  expect(lines.slice(0, 5)).toEqual([
    "fleet: booted 4 cores; a Lookup's answer is kept 10 ms in a name cache",
    'fleet: /demo/echo/1 on core 1 joined /demo/echo with weight 1',
    'fleet: /demo/echo/2 on core 2 joined /demo/echo with weight 1',
    'fleet: /demo/echo/3 on core 3 joined /demo/echo with weight 2',
    'fleet: the client called /demo/echo 300 times, in 60 rounds of 5',
  ]);
  // Each round starts after a pause longer than the TTL, so at least one Lookup per round; a round
  // slowed past the TTL makes more. How many is up to the machine's speed, so only the floor is checked.
  const lookups = Number(
    /^fleet: its libfos made (\d+) Lookups; its name cache answered the other sends$/.exec(lines[5]!)?.[1],
  );
  expect(lookups).toBeGreaterThanOrEqual(60);
  const answered = lines.slice(6).map((line) => /^fleet: (\/demo\/echo\/\d) answered (\d+)$/.exec(line));
  expect(answered.map((match) => match?.[1])).toEqual(['/demo/echo/1', '/demo/echo/2', '/demo/echo/3']);
  const counts = answered.map((match) => Number(match?.[2]));
  expect(counts.reduce((sum, count) => sum + count, 0)).toBe(300);
  // Every member answered: each of at least 60 Lookups picks a member by weight (1, 1, 2), so the
  // chance that one member is never picked is under 2 * (3/4)^60, about 6e-8.
  for (const count of counts) expect(count).toBeGreaterThan(0);
});
