// Adds up the vitest JSON reports of every workspace package (written by the shared vitest preset)
// and prints one closing line, "N passed, N failed, N skipped", for the whole workspace.
// Exits non-zero when a report shows a failure, when a package with a `test` script left no report
// (its suite did not run to the end), or when no test ran at all.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
// Every workspace package folder: packages/*, apps/*, tooling/*, and examples (a package itself).
const folders = ['packages', 'apps', 'tooling'].flatMap((group) =>
  existsSync(join(root, group)) ? readdirSync(join(root, group)).map((name) => join(root, group, name)) : [],
);
folders.push(join(root, 'examples'));
for (const folder of folders) {
  const report = join(folder, '.vitest', 'results.json');
  const manifest = join(folder, 'package.json');
  const hasTests = existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).scripts?.test !== undefined;
  if (!existsSync(report)) {
    if (hasTests) missing.push(relative(root, folder));
    continue;
  }
  const result = JSON.parse(readFileSync(report, 'utf8'));
  passed += result.numPassedTests;
  failed += result.numFailedTests;
  skipped += result.numPendingTests + (result.numTodoTests ?? 0);
}
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (missing.length > 0) console.log(`No test report from: ${missing.join(', ')}`);
process.exit(failed > 0 || passed === 0 || missing.length > 0 ? 1 : 0);
