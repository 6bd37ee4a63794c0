// Runs the echo example (echo/main.ts) as its README says and checks what it prints.
import { describe, expect, it } from 'vitest';
import { runBuiltExample } from './built.js';

describe.each(['worker', 'local'])('the echo example on the %s fabric', (fabric) => {
  it('registers /demo/echo and calls it by name from a client on another core', async () => {
    const lines = await runBuiltExample('echo', fabric);
    expect(lines).toEqual([
      `echo: booted 3 cores on the ${fabric} fabric, the name service on core 0`,
      'echo: reserved /demo/* for the echo server',
      'echo: the server on core 1 registered /demo/echo',
      expect.stringMatching(/^echo: the client on core 2 resolved \/demo\/echo to mailbox m0\/1\/\d+$/),
      'echo: it called /demo/echo and got {"echo":"hello, fos"}',
    ]);
  });
});

it('refuses a fabric it does not know', async () => {
  await expect(runBuiltExample('echo', 'quantum')).rejects.toThrow(/usage: main\.js \[worker\|local\], not quantum/);
});
