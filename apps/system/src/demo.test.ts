import { hasFosErrorCode } from '@fos/microkernel';
import { describe, expect, it } from 'vitest';
import { formatDemoSummary, runDemo } from './demo.js';

// The demo spawns its processes from a module; from source, that is the build (turbo builds first).
const processesModule = new URL('../dist/processes.js', import.meta.url);

describe('runDemo', () => {
  it('runs on the local fabric and counts every message', async () => {
    const result = await runDemo({ fabric: 'local', messages: 100, processesModule });
    expect(result).toMatchObject({ fabric: 'local', cores: 4, seed: undefined, processes: 2, mailboxes: 2, delivered: 200, refused: 0, roundTrips: 100, verified: 100, payloadBytes: 64 });
    expect(result.elapsedMs).toBeGreaterThan(0);
    const summary = formatDemoSummary(result);
    for (const label of ['fabric', 'cores', 'processes', 'mailboxes', 'messages delivered', 'round trips', 'elapsed', 'round trips/s']) expect(summary).toContain(label);
  });

  it('runs on the sim fabric with a seed', async () => {
    const result = await runDemo({ fabric: 'sim', seed: 7, cores: 3, messages: 50, processesModule });
    expect(result).toMatchObject({ fabric: 'sim', cores: 3, seed: 7, processes: 2, mailboxes: 2, delivered: 100, roundTrips: 50, verified: 50 });
    expect(formatDemoSummary(result)).toContain('sim (seed=7)');
  });

  it('refuses options it cannot run with BAD_REQUEST', async () => {
    await expect(runDemo({ cores: 2, processesModule })).rejects.toSatisfy((error) => hasFosErrorCode(error, 'BAD_REQUEST') && /cores = 2/.test(String(error)));
    await expect(runDemo({ messages: 0, processesModule })).rejects.toSatisfy((error) => hasFosErrorCode(error, 'BAD_REQUEST') && /messages = 0/.test(String(error)));
    await expect(runDemo({ fabric: 'sim', processesModule })).rejects.toSatisfy((error) => hasFosErrorCode(error, 'BAD_REQUEST') && /seed/.test(String(error)));
  });
});
