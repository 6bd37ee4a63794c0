import type { Options } from 'tsup';
export function fosTsupConfig(options?: { entry?: string[]; esmOnly?: string[] }): Options | Options[];
