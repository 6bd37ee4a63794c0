import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  layeringViolations,
  lintScriptViolations,
  packageShapeViolations,
  readWorkspace,
  typesVersionsViolations,
  type PackageJson,
  type WorkspacePackage,
} from './workspace.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

function fake(
  name: string,
  dependencies: Record<string, string> = {},
  peerDependencies: Record<string, string> = {},
): WorkspacePackage {
  return { directory: `/nowhere/${name}`, group: 'packages', manifest: { name, dependencies, peerDependencies } };
}

describe('the workspace', () => {
  it('finds every package', () => {
    const names = readWorkspace(root).map((entry) => entry.manifest.name);
    expect(names).toContain('@fos/base');
    expect(names).toContain('@fos/sim');
    expect(names).toContain('@fos/microkernel');
    expect(names).toContain('@fos/workspace-check');
    expect(names).toContain('@fos/examples');
  });

  it('keeps the layering of docs/rules.md', () => {
    expect(layeringViolations(readWorkspace(root))).toEqual([]);
  });

  it('gives every published package the house shape and a changeset', () => {
    expect(packageShapeViolations(root, readWorkspace(root))).toEqual([]);
  });
});

describe('the layering check', () => {
  it('accepts dependencies on packages below', () => {
    expect(
      layeringViolations([
        fake('@fos/name-service', { '@fos/distributed-store': 'workspace:^', '@fos/sim': 'workspace:^', zod: '^4' }),
      ]),
    ).toEqual([]);
  });

  it('refuses a dependency on a package above', () => {
    expect(layeringViolations([fake('@fos/microkernel', { '@fos/dispatcher': 'workspace:^' })])).toEqual([
      '@fos/microkernel depends on @fos/dispatcher, a package above it',
    ]);
  });

  it('puts @fos/base below everything: any package may depend on it, it on no other', () => {
    expect(
      layeringViolations([
        fake('@fos/sim', { '@fos/base': 'workspace:^' }),
        fake('@fos/system', { '@fos/base': 'workspace:^' }),
      ]),
    ).toEqual([]);
    expect(layeringViolations([fake('@fos/base', { '@fos/sim': 'workspace:^' })])).toEqual([
      '@fos/base depends on @fos/sim, a package above it',
    ]);
  });

  it('refuses a peerDependency on a package of the same line', () => {
    expect(layeringViolations([fake('@fos/fs', {}, { '@fos/netstack': 'workspace:^' })])).toEqual([
      '@fos/fs depends on @fos/netstack, a package of its own line',
    ]);
  });

  it('refuses a runtime dependency on rpc-gen but not a devDependency', () => {
    expect(layeringViolations([fake('@fos/name-service', { '@fos/rpc-gen': 'workspace:^' })])).toEqual([
      '@fos/name-service has a runtime dependency on @fos/rpc-gen, a build-time tool (make it a devDependency)',
    ]);
    const withDevDependency: WorkspacePackage = {
      directory: '/x',
      group: 'packages',
      manifest: { name: '@fos/name-service', devDependencies: { '@fos/rpc-gen': 'workspace:*' } },
    };
    expect(layeringViolations([withDevDependency])).toEqual([]);
  });

  it('refuses a package with no place in the layering', () => {
    expect(layeringViolations([fake('@fos/mystery')])).toEqual([
      '@fos/mystery has no place in the layering (docs/rules.md)',
    ]);
  });
});

describe('the typesVersions check', () => {
  const conditional = (stem: string) => ({
    import: { types: `./dist/${stem}.d.ts`, default: `./dist/${stem}.js` },
    require: { types: `./dist/${stem}.d.cts`, default: `./dist/${stem}.cjs` },
  });
  const withTesting = (typesVersions?: PackageJson['typesVersions']): PackageJson => ({
    name: '@fos/x',
    exports: {
      '.': conditional('index'),
      './testing': conditional('testing'),
      './internal/*': null,
      './package.json': './package.json',
    },
    ...(typesVersions === undefined ? {} : { typesVersions }),
  });

  it('needs nothing of a package that exports only its root', () => {
    expect(
      typesVersionsViolations({
        name: '@fos/x',
        exports: { '.': conditional('index'), './internal/*': null, './package.json': './package.json' },
      }),
    ).toEqual([]);
  });

  it('accepts a subpath mapped to the .d.ts of its import condition', () => {
    expect(typesVersionsViolations(withTesting({ '*': { testing: ['./dist/testing.d.ts'] } }))).toEqual([]);
  });

  it('refuses a subpath export that typesVersions does not map, or maps elsewhere', () => {
    const missing =
      '@fos/x does not map "testing" to ["./dist/testing.d.ts"] in typesVersions["*"] (node10 resolution ignores exports)';
    expect(typesVersionsViolations(withTesting())).toEqual([missing]);
    expect(typesVersionsViolations(withTesting({ '*': { testing: ['./dist/testing.d.cts'] } }))).toEqual([missing]);
  });

  it('refuses a mapping for a subpath that is not exported, and version ranges other than "*"', () => {
    expect(
      typesVersionsViolations(withTesting({ '*': { testing: ['./dist/testing.d.ts'], extra: ['./dist/extra.d.ts'] } })),
    ).toEqual(['@fos/x maps "extra" in typesVersions, which it does not export']);
    expect(typesVersionsViolations(withTesting({ '>=5': { testing: ['./dist/testing.d.ts'] } }))).toEqual([
      '@fos/x has typesVersions for [">=5"]; only "*" is used',
      '@fos/x does not map "testing" to ["./dist/testing.d.ts"] in typesVersions["*"] (node10 resolution ignores exports)',
    ]);
  });
});

describe('the lint script check', () => {
  it('accepts a lint that runs publint and attw on the packed package', () => {
    expect(
      lintScriptViolations({
        name: '@fos/x',
        scripts: { lint: 'eslint . && publint --strict && attw --pack . --format table-flipped' },
      }),
    ).toEqual([]);
  });

  it('refuses a lint without attw', () => {
    expect(lintScriptViolations({ name: '@fos/x', scripts: { lint: 'eslint . && publint --strict' } })).toEqual([
      "@fos/x's lint script does not run attw --pack .",
    ]);
  });
});
