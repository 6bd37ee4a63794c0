#!/usr/bin/env node
// The dry run of a release (`pnpm release:check`; `pnpm release` runs it before publishing): packs
// every published package as `pnpm publish` would, checks that each tarball holds what its manifest
// points at (every file of `exports`, `main`, `module`, `types`, `bin`, with `.d.ts` types), then
// installs the tarballs into a scratch project with npm, as a user would, and runs them there: each
// package imported as ESM and required as CommonJS, and the installed `fos demo`. Needs the packages
// built (`pnpm build`) and the npm registry (for zod and msgpackr). Exit 1 with the reasons when
// anything is missing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'fos-release-check-'));
const failures = [];

/** The published packages: every workspace package that is not private. */
function publishedPackages() {
  const found = [];
  for (const group of ['packages', 'apps'])
    for (const name of readdirSync(join(root, group)).sort()) {
      const manifestPath = join(root, group, name, 'package.json');
      if (!existsSync(manifestPath)) continue;
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
      if (manifest.private !== true) found.push({ directory: join(root, group, name), manifest });
    }
  return found;
}

/** Every file path a manifest points at (relative, without `./`). */
function pointedAt(manifest) {
  const paths = new Set();
  const walk = (value) => {
    if (typeof value === 'string') paths.add(value);
    else if (value !== null && typeof value === 'object') for (const each of Object.values(value)) walk(each);
  };
  walk(manifest.exports);
  for (const field of ['main', 'module', 'types']) walk(manifest[field]);
  walk(manifest.bin);
  return [...paths].filter((path) => !path.includes('*')).map((path) => path.replace(/^\.\//, ''));
}

function run(command, args, cwd) {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

try {
  const packages = publishedPackages();
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  const dependencies = {};
  for (const { directory, manifest } of packages) {
    const before = new Set(readdirSync(tarballs));
    run('pnpm', ['pack', '--pack-destination', tarballs], directory);
    const tarball = readdirSync(tarballs).find((file) => !before.has(file));
    if (tarball === undefined) {
      failures.push(`${manifest.name}: pnpm pack wrote no tarball`);
      continue;
    }
    const entries = new Set(
      run('tar', ['-tzf', join(tarballs, tarball)], work)
        .split('\n')
        .filter(Boolean)
        .map((entry) => entry.replace(/^package\//, '')),
    );
    for (const path of ['package.json', 'README.md', 'LICENSE', ...pointedAt(manifest)])
      if (!entries.has(path)) failures.push(`${manifest.name}: ${path} is not in ${tarball}`);
    if (![...entries].some((entry) => entry.startsWith('dist/') && entry.endsWith('.d.ts')))
      failures.push(`${manifest.name}: no .d.ts types under dist/ in ${tarball}`);
    const packed = JSON.parse(run('tar', ['-xzOf', join(tarballs, tarball), 'package/package.json'], work));
    for (const [name, range] of Object.entries(packed.dependencies ?? {}))
      if (range.startsWith('workspace:')) failures.push(`${manifest.name}: dependency ${name} is still ${range}`);
    dependencies[manifest.name] = `file:${join(tarballs, tarball)}`;
    process.stdout.write(`release-check: packed ${tarball} (${entries.size} files)\n`);
  }
  if (failures.length === 0) {
    const project = join(work, 'project');
    mkdirSync(project);
    // overrides: the packages' dependencies on each other resolve to these tarballs, not the registry.
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify(
        { name: 'scratch', private: true, type: 'module', dependencies, overrides: dependencies },
        null,
        2,
      ),
    );
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], project);
    const names = Object.keys(dependencies);
    writeFileSync(
      join(project, 'imports.mjs'),
      `import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n` +
        `for (const name of ${JSON.stringify(names)}) {\n` +
        `  const esm = await import(name);\n  const cjs = require(name);\n` +
        `  if (Object.keys(esm).length === 0 || Object.keys(cjs).length === 0) throw new Error(name + ' exports nothing');\n}\n` +
        `console.log('imported ' + ${names.length} + ' packages as ESM and CommonJS');\n`,
    );
    process.stdout.write(`release-check: ${run(process.execPath, ['imports.mjs'], project)}`);
    const demo = run(join(project, 'node_modules', '.bin', 'fos'), ['demo', '--messages', '100'], project);
    if (!/round trips\s+100 \(100 verified/.test(demo)) failures.push(`the installed fos demo printed:\n${demo}`);
    else process.stdout.write(`release-check: the installed \`fos demo\` ran (${demo.split('\n').length} lines)\n`);
  }
} catch (error) {
  failures.push(`${error.message}${error.stderr ? `\n${error.stderr}` : ''}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (failures.length > 0) {
  process.stderr.write(
    `release-check: ${failures.length} problem(s):\n${failures.map((each) => `- ${each}`).join('\n')}\n`,
  );
  process.exitCode = 1;
} else process.stdout.write('release-check: every package packs what it points at, installs and runs\n');
