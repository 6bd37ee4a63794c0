// Shared tsup preset: library entries ship ESM + CJS + .d.ts; binaries and process modules
// (worker entry points, CLIs) are ESM only.
import { defineConfig } from 'tsup';

/**
 * @param {{ entry?: string[], esmOnly?: string[] }} [options]
 *   entry: library entries (ESM + CJS + .d.ts); esmOnly: entries built as ESM only.
 */
export function fosTsupConfig(options = {}) {
  const library = {
    entry: options.entry ?? ['src/index.ts'],
    format: ['esm', 'cjs'],
    // Declarations take two thirds of a package's build. `FOS_BUILD_TYPES=0` skips them for what only
    // runs the code (`pnpm start`, `pnpm fos`); turbo keeps that build apart (the variable is in the
    // build task's env), so any later build that needs types makes them.
    dts: process.env.FOS_BUILD_TYPES !== '0',
    sourcemap: true,
    clean: !(options.esmOnly && options.esmOnly.length > 0),
    target: 'node20',
    platform: 'node',
    splitting: false,
    treeshake: true,
    // import.meta.url in the CommonJS build too (where a package finds its worker or process modules).
    shims: true,
  };
  if (!options.esmOnly || options.esmOnly.length === 0) return defineConfig(library);
  return defineConfig([
    library,
    {
      entry: options.esmOnly,
      format: ['esm'],
      dts: false,
      sourcemap: true,
      clean: false,
      target: 'node20',
      platform: 'node',
      splitting: false,
    },
  ]);
}
