// `pnpm start` and `pnpm fos` (scripts/start.mjs) turn turbo's build lines into plain words.
import { describe, expect, it } from 'vitest';

interface StartScript {
  readTurboLine(line: string): { building?: string; cached?: string; seconds?: number } | undefined;
  buildSummary(built: number, cached: number, seconds: number): string;
}

const script = new URL('../../../scripts/start.mjs', import.meta.url).href;
const { readTurboLine, buildSummary } = (await import(/* @vite-ignore */ script)) as StartScript;

describe('scripts/start.mjs', () => {
  it('reads which package turbo builds, which it replays, and the time the run took', () => {
    expect(readTurboLine('@fos/base:build: cache miss, executing 114f98ba4ff71d6d')).toEqual({ building: '@fos/base' });
    expect(readTurboLine('@fos/fs:build: cache bypass, force executing 6faa69b10c0cc512')).toEqual({
      building: '@fos/fs',
    });
    expect(readTurboLine('@fos/sim:build: cache hit, replaying logs b82932214141aea2')).toEqual({ cached: '@fos/sim' });
    expect(readTurboLine('  Time:    26.675s ')).toEqual({ seconds: 26.675 });
    expect(readTurboLine('  Time:    850ms >>> FULL TURBO')).toEqual({ seconds: 0.85 });
    for (const noise of ['', '   • Running build in 17 packages', ' Tasks:    13 successful, 13 total'])
      expect(readTurboLine(noise)).toBeUndefined();
  });

  it('sums a build up in one line', () => {
    expect(buildSummary(13, 0, 16.52)).toBe('fos: built 13 packages in 16.5 s');
    expect(buildSummary(1, 12, 2)).toBe('fos: built 1 package in 2.0 s; 12 built already');
    expect(buildSummary(0, 13, 0.1)).toBe('fos: all 13 packages built already (0.1 s)');
  });
});
