#!/usr/bin/env node
// The dry run of a release (`pnpm release:check`; `pnpm release` runs it before publishing): packs
// every published package as `pnpm publish` would, checks that each tarball holds what its manifest
// points at (every file of `exports`, `main`, `module`, `types`, `typesVersions`, `bin`, with `.d.ts`
// types), then installs the tarballs into a scratch project with npm, as a user would, and runs them there: each
// package imported as ESM and required as CommonJS, and the installed `fos demo`. Before that it runs
// `changeset version` on a copy of the repository and checks the changelogs it would write (each
// pending changeset names only published packages; an entry has no commit hash; a package's release
// has at most one "First release" entry). Needs the packages built (`pnpm build`) and the npm registry
// (for zod and msgpackr). Exit 1 with the reasons when anything is missing.
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
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
  walk(manifest.typesVersions);
  return [...paths].filter((path) => !path.includes('*')).map((path) => path.replace(/^\.\//, ''));
}

function run(command, args, cwd) {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The pending changesets: `[file, the packages it names]`. */
function pendingChangesets() {
  const folder = join(root, '.changeset');
  return readdirSync(folder)
    .filter((file) => file.endsWith('.md') && file !== 'README.md')
    .map((file) => {
      const front = /^---\n([\s\S]*?)\n---/.exec(readFileSync(join(folder, file), 'utf8'))?.[1] ?? '';
      return [file, [...front.matchAll(/^['"]?([^'":]+)['"]?\s*:/gm)].map((match) => match[1])];
    });
}

/** Runs `changeset version` on a copy of the repository's files and checks the changelogs it writes. */
function checkChangelogs(packages) {
  const published = new Set(packages.map(({ manifest }) => manifest.name));
  const pending = pendingChangesets();
  for (const [file, names] of pending)
    for (const name of names)
      if (!published.has(name)) failures.push(`.changeset/${file} names ${name}, which is not published`);
  if (pending.length === 0) {
    process.stdout.write('release-check: no pending changesets\n');
    return;
  }
  const copy = join(work, 'repository');
  mkdirSync(copy);
  const files = run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], root)
    .split('\0')
    .filter((file) => file !== '' && existsSync(join(root, file)));
  for (const file of files) {
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    copyFileSync(join(root, file), join(copy, file));
  }
  run(join(root, 'node_modules', '.bin', 'changeset'), ['version'], copy);
  for (const { directory, manifest } of packages) {
    const changelogPath = join(copy, relative(root, directory), 'CHANGELOG.md');
    const version = JSON.parse(readFileSync(join(copy, relative(root, directory), 'package.json'), 'utf8')).version;
    if (version === manifest.version) continue;
    if (!existsSync(changelogPath)) {
      failures.push(`${manifest.name}: changeset version wrote no CHANGELOG.md`);
      continue;
    }
    const changelog = readFileSync(changelogPath, 'utf8');
    const release = changelog.split(`## ${version}\n`)[1]?.split(/^## /m)[0];
    if (release === undefined) {
      failures.push(`${manifest.name}: CHANGELOG.md has no section for ${version}`);
      continue;
    }
    if (/^- [0-9a-f]{7,40}:|Updated dependencies \[/m.test(release))
      failures.push(`${manifest.name}: the ${version} changelog names commits:\n${release}`);
    if ((release.match(/^- First release/gm) ?? []).length > 1)
      failures.push(`${manifest.name}: the ${version} changelog has more than one "First release" entry`);
  }
  process.stdout.write(`release-check: changeset version writes clean changelogs for ${pending.length} changesets\n`);
}

try {
  const packages = publishedPackages();
  checkChangelogs(packages);
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
