import type { Linter } from 'eslint';
/**
 * The workspace's flat config. `realTimeFiles`: globs of the files that may use real time, real
 * scheduling and the console (the real clock's own file, command-line front ends, benchmarks).
 */
export function fosEslintConfig(options: { tsconfigRootDir: string; realTimeFiles?: string[] }): Linter.Config[];
