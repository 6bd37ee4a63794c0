// How `changeset version` writes a package's CHANGELOG.md: each changeset's summary is one list item
// (its later lines indented under it), with no commit hashes, and a package released because its fos
// dependencies were says which, once.
'use strict';

/** @type {import('@changesets/types').GetReleaseLine} */
async function getReleaseLine(changeset) {
  const [first = '', ...rest] = changeset.summary.trim().split('\n');
  return ['- ' + first, ...rest.map((line) => (line.trim() === '' ? '' : '  ' + line))].join('\n');
}

/** @type {import('@changesets/types').GetDependencyReleaseLine} */
async function getDependencyReleaseLine(_changesets, dependenciesUpdated) {
  if (dependenciesUpdated.length === 0) return '';
  const versions = dependenciesUpdated.map((dependency) => `\`${dependency.name}\` ${dependency.newVersion}`);
  return `- Uses ${versions.join(', ')}.`;
}

module.exports = { default: { getReleaseLine, getDependencyReleaseLine } };
