import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The layering of the workspace (docs/rules.md, "Layering"), bottom to top: a package may depend only on packages of earlier
 * lines, never on one of its own line. `tooling/*` packages are devDependencies of all and sit outside.
 */
export const layers: readonly (readonly string[])[] = [
  ['@fos/base'],
  ['@fos/sim'],
  ['@fos/microkernel'],
  ['@fos/dispatcher'],
  ['@fos/rpc-gen'],
  ['@fos/libfos-namecache'],
  ['@fos/libfos-messaging'],
  ['@fos/distributed-store'],
  ['@fos/name-service'],
  ['@fos/proxy', '@fos/fs', '@fos/netstack'],
  ['@fos/system'],
  ['@fos/bench', '@fos/examples'],
];

/** A build-time tool that must never be a runtime dependency (it pulls in the TypeScript compiler). */
export const buildTimeOnly: readonly string[] = ['@fos/rpc-gen'];

/**
 * What every published package lists in `files`: its build, and the changelog `changeset version`
 * writes (npm adds package.json, README and LICENSE by itself).
 */
export const publishedFiles: readonly string[] = ['dist', 'CHANGELOG.md'];

/** The fields of a package.json this check reads. */
export interface PackageJson {
  readonly name: string;
  readonly version?: string;
  readonly private?: boolean;
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
  readonly exports?: Record<string, unknown>;
  /** For TypeScript's `node10` resolution, which ignores `exports`: each subpath's `.d.ts`. */
  readonly typesVersions?: Record<string, Record<string, readonly string[]>>;
  readonly scripts?: Record<string, string>;
  readonly files?: readonly string[];
  /** Commands: a file under `bin/` that is in the repository, so installing links it before any build. */
  readonly bin?: Record<string, string>;
  readonly sideEffects?: boolean;
}

/** One workspace package: where it lives and its manifest. */
export interface WorkspacePackage {
  readonly directory: string;
  readonly group: 'packages' | 'apps' | 'tooling' | 'examples';
  readonly manifest: PackageJson;
}

/** Every package of the workspace at `root`. */
export function readWorkspace(root: string): WorkspacePackage[] {
  const found: WorkspacePackage[] = [];
  for (const group of ['packages', 'apps', 'tooling'] as const) {
    const groupDirectory = join(root, group);
    if (!existsSync(groupDirectory)) continue;
    for (const name of readdirSync(groupDirectory).sort()) {
      const manifestPath = join(groupDirectory, name, 'package.json');
      if (!existsSync(manifestPath)) continue;
      found.push({
        directory: join(groupDirectory, name),
        group,
        manifest: JSON.parse(readFileSync(manifestPath, 'utf8')) as PackageJson,
      });
    }
  }
  // `examples/` is one package itself, not a folder of them.
  const examples = join(root, 'examples', 'package.json');
  if (existsSync(examples))
    found.push({
      directory: join(root, 'examples'),
      group: 'examples',
      manifest: JSON.parse(readFileSync(examples, 'utf8')) as PackageJson,
    });
  return found;
}

function layerOf(name: string): number {
  return layers.findIndex((line) => line.includes(name));
}

/** Every breach of the layering rules, as sentences; empty when the workspace is sound. */
export function layeringViolations(packages: readonly WorkspacePackage[]): string[] {
  const violations: string[] = [];
  for (const { group, manifest } of packages) {
    if (group === 'tooling') continue;
    const ownLayer = layerOf(manifest.name);
    if (ownLayer < 0) {
      violations.push(`${manifest.name} has no place in the layering (docs/rules.md)`);
      continue;
    }
    const runtime = { ...manifest.dependencies, ...manifest.peerDependencies };
    for (const dependency of Object.keys(runtime).filter((name) => name.startsWith('@fos/'))) {
      if (buildTimeOnly.includes(dependency)) {
        violations.push(
          `${manifest.name} has a runtime dependency on ${dependency}, a build-time tool (make it a devDependency)`,
        );
        continue;
      }
      const dependencyLayer = layerOf(dependency);
      if (dependencyLayer < 0)
        violations.push(`${manifest.name} depends on ${dependency}, which has no place in the layering`);
      else if (dependencyLayer === ownLayer)
        violations.push(`${manifest.name} depends on ${dependency}, a package of its own line`);
      else if (dependencyLayer > ownLayer)
        violations.push(`${manifest.name} depends on ${dependency}, a package above it`);
    }
  }
  return violations;
}

/**
 * The subpaths a package exports besides its root and its package.json (`./testing`), without the `./`;
 * blocked (`null`) and wildcard entries are not entry points.
 */
export function exportedSubpaths(manifest: PackageJson): string[] {
  return Object.entries(manifest.exports ?? {})
    .filter(([key, value]) => key !== '.' && key !== './package.json' && value !== null && !key.includes('*'))
    .map(([key]) => key.slice(2));
}

/**
 * Where `node10` resolution (which ignores `exports`) finds each subpath's types: `typesVersions` must map
 * every exported subpath, and nothing else, to the `.d.ts` its `import` condition names, or `import
 * "@fos/x/testing"` has no types there (`attw` reports it as "Resolution failed").
 */
export function typesVersionsViolations(manifest: PackageJson): string[] {
  const violations: string[] = [];
  const name = manifest.name;
  const subpaths = exportedSubpaths(manifest);
  const ranges = Object.keys(manifest.typesVersions ?? {});
  if (ranges.some((range) => range !== '*'))
    violations.push(`${name} has typesVersions for ${JSON.stringify(ranges)}; only "*" is used`);
  const mapped = manifest.typesVersions?.['*'] ?? {};
  for (const subpath of subpaths) {
    const entry = manifest.exports?.[`./${subpath}`] as { import?: { types?: string } } | undefined;
    const types = entry?.import?.types;
    if (types === undefined) {
      violations.push(`${name} has no "types" under exports["./${subpath}"].import`);
      continue;
    }
    if (JSON.stringify(mapped[subpath]) !== JSON.stringify([types]))
      violations.push(
        `${name} does not map "${subpath}" to ${JSON.stringify([types])} in typesVersions["*"] (node10 resolution ignores exports)`,
      );
  }
  for (const key of Object.keys(mapped))
    if (!subpaths.includes(key)) violations.push(`${name} maps "${key}" in typesVersions, which it does not export`);
  return violations;
}

/** A published package's `lint` runs publint and `attw --pack .` (every entry point in every resolution mode). */
export function lintScriptViolations(manifest: PackageJson): string[] {
  const lint = manifest.scripts?.lint ?? '';
  const violations: string[] = [];
  if (!/\bpublint --strict\b/.test(lint))
    violations.push(`${manifest.name}'s lint script does not run publint --strict`);
  if (!/\battw --pack \.(\s|$)/.test(lint))
    violations.push(`${manifest.name}'s lint script does not run attw --pack .`);
  return violations;
}

/** Every way a published package falls short of the house shape (CONVENTIONS, "A package"). */
export function packageShapeViolations(root: string, packages: readonly WorkspacePackage[]): string[] {
  const violations: string[] = [];
  const changesets = readdirSync(join(root, '.changeset'))
    .filter((file) => file.endsWith('.md') && file !== 'README.md')
    .map((file) => readFileSync(join(root, '.changeset', file), 'utf8'));
  for (const { directory, manifest } of packages) {
    if (manifest.private === true) continue;
    const name = manifest.name;
    if (!name.startsWith('@fos/')) violations.push(`${name} is not named @fos/<folder>`);
    if (!existsSync(join(directory, 'README.md'))) violations.push(`${name} has no README.md`);
    if (manifest.sideEffects !== false) violations.push(`${name} does not declare "sideEffects": false`);
    const files = manifest.bin === undefined ? publishedFiles : ['bin', ...publishedFiles];
    if (JSON.stringify(manifest.files) !== JSON.stringify(files))
      violations.push(`${name} does not publish exactly ${JSON.stringify(files)}`);
    for (const [command, target] of Object.entries(manifest.bin ?? {}))
      if (!target.startsWith('./bin/') || !existsSync(join(directory, target)))
        violations.push(`${name}'s command ${command} is not a file under bin/ of the repository (${target})`);
    const main = manifest.exports?.['.'] as Record<string, { types?: string }> | undefined;
    for (const condition of ['import', 'require']) {
      if (main?.[condition]?.types === undefined)
        violations.push(`${name} has no "types" under exports["."].${condition}`);
    }
    if (manifest.exports?.['./internal/*'] !== null)
      violations.push(`${name} does not block "./internal/*" in its exports map`);
    violations.push(...typesVersionsViolations(manifest), ...lintScriptViolations(manifest));
    const mentioned = changesets.some((text) =>
      new RegExp(`^["']?${name.replace('/', '\\/')}["']?:\\s*(minor|major|patch)`, 'm').test(text),
    );
    if (!mentioned) violations.push(`${name} has no changeset`);
  }
  return violations;
}
