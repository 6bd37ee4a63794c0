import type { UserConfig } from 'vitest/config';
export function fosVitestConfig(options?: { testTimeout?: number }): UserConfig;
