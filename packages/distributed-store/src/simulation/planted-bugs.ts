// Deliberate bugs, as rule strategies, for tests that prove the simulation finds them. Only the testing
// entry builds them: no option of a production member can switch one on.
import { waitDieRules, type StoreRules } from '../internal/rules.js';
import { checkedPlantedBugs } from './arguments.js';

/**
 * Deliberate bugs (never set them outside tests): `originateWhileHolding` lets a member originate while
 * the arbiter is held; `voteWithoutPrecondition` makes a member vote yes (its own modification's local
 * vote included) without checking the precondition; `modifyDuringJoin` lets modifications start while a
 * membership change holds the blocking lock; `thesisPreemption` (experiment b) replaces wait-die by the
 * thesis's own rule (Figures 4-2 and 4-3): a request with priority takes a held arbiter, votes yes
 * whatever the entry holds (it forces its value), and a preempted request's late outcome is applied
 * only where it still owns the arbiter.
 */
export type PlantedBugs = {
  readonly originateWhileHolding?: boolean;
  readonly voteWithoutPrecondition?: boolean;
  readonly modifyDuringJoin?: boolean;
  readonly thesisPreemption?: boolean;
};

/** The names of the planted bugs. */
export const plantedBugNames = [
  'originateWhileHolding',
  'voteWithoutPrecondition',
  'modifyDuringJoin',
  'thesisPreemption',
] as const;

/**
 * The rules of this package with `bugs` planted in them (pass them to a core with `withStoreRules`).
 * `BAD_REQUEST` for anything but an object of planted bugs' names and booleans.
 */
export function plantedBugRules(bugs: PlantedBugs): StoreRules {
  bugs = checkedPlantedBugs(bugs);
  const thesis = bugs.thesisPreemption === true;
  const withoutPrecondition = bugs.voteWithoutPrecondition === true;
  return {
    originateWhileHeld: bugs.originateWhileHolding === true,
    modifyWhileBlocking: bugs.modifyDuringJoin === true,
    originatorChecksPrecondition: !withoutPrecondition,
    voterChecksPrecondition: !withoutPrecondition && !thesis,
    // hasPriority as the thesis has it: a free arbiter, or a holder whose originator's name is higher; else sleep on it.
    arbitrate: thesis
      ? (holder, originator) => (holder === undefined || originator < holder.originator ? 'claim' : 'sleep')
      : waitDieRules.arbitrate,
    applyOnlyIfOwner: thesis,
  };
}
