// The commit of a modifying request's plan (thesis §4.3: a store modification may fail, and the name
// service then rewinds every change of the current operation and tries again): aliases first (a
// mailbox accepts a name before any Lookup can lead to it), the store writes, then the alias removals.
import type { Store } from '@fos/distributed-store';
import { assert, hasFosErrorCode, isFosError } from '@fos/base';
import type { NameEntry } from '../entry.js';
import type { NameServerAliases } from '../name-server.js';
import { sameEntry } from './helpers.js';
import type { AliasPair, PlannedWrite, Workspace } from './workspace.js';

/** Applies a plan; false when a store write met `CONFLICT` (everything done was rewound). */
export async function commitPlan(
  store: Store<NameEntry>,
  aliases: NameServerAliases,
  conflictRetriesMax: number,
  workspace: Workspace,
): Promise<boolean> {
  const writes = workspace.writes();
  const { adds, removes } = await workspace.aliasDiff();
  const added: AliasPair[] = [];
  const done: PlannedWrite[] = [];
  let writing = false;
  try {
    for (const pair of adds) {
      await aliases.add(pair.location, pair.name);
      added.push(pair);
    }
    writing = true;
    for (const write of writes) {
      await applyWrite(store, write);
      done.push(write);
    }
  } catch (error) {
    for (const write of done.reverse()) await rewindWrite(store, conflictRetriesMax, write);
    for (const pair of added.reverse()) await removeAliasQuietly(aliases, pair);
    if (writing && hasFosErrorCode(error, 'CONFLICT')) return false;
    throw error;
  }
  for (const pair of removes) await removeAliasQuietly(aliases, pair);
  return true;
}

async function applyWrite(store: Store<NameEntry>, write: PlannedWrite): Promise<void> {
  if (write.before === undefined) {
    assert(write.after !== undefined, 'a write changes something');
    await store.insert(write.key, write.after);
  } else if (write.after === undefined) {
    await store.delete(write.key, write.before.version);
  } else {
    await store.update(write.key, write.after, write.before.version);
  }
}

/**
 * Undoes one applied write, unless another modification has changed the key since (then it is not
 * ours to undo). A rewind that meets `CONFLICT` reads the key again, up to `conflictRetriesMax` times.
 */
async function rewindWrite(store: Store<NameEntry>, conflictRetriesMax: number, write: PlannedWrite): Promise<void> {
  for (let attempt = 0; attempt <= conflictRetriesMax; attempt += 1) {
    const current = await store.get(write.key);
    try {
      if (write.after === undefined) {
        assert(write.before !== undefined, 'a delete had an entry');
        if (current !== undefined) return;
        await store.insert(write.key, write.before.value);
        return;
      }
      const writtenVersion = write.before === undefined ? 1 : write.before.version + 1;
      if (current?.version !== writtenVersion || !sameEntry(current.value, write.after)) return;
      if (write.before === undefined) await store.delete(write.key, writtenVersion);
      else await store.update(write.key, write.before.value, writtenVersion);
      return;
    } catch (error) {
      if (!hasFosErrorCode(error, 'CONFLICT')) throw error;
    }
  }
}

/** Alias removal is best effort: the mailbox may be gone already, and then it has no names left to hold. */
async function removeAliasQuietly(aliases: NameServerAliases, pair: AliasPair): Promise<void> {
  try {
    await aliases.remove(pair.location, pair.name);
  } catch (error) {
    if (!isFosError(error)) throw error;
  }
}
