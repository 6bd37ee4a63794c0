// The decisions of the protocol that tests vary (never production code): at each decision point of
// Figure 4-2 and Table 4.7 the core asks its rule strategy. Production members always run the rules of
// this package, `waitDieRules`; the testing entry builds the others (planted bugs, the thesis's own
// preemption rule) to prove that the simulation tells them apart.
import { describeValue } from '@fos/base';
import type { MemberName } from '../replicated/messages.js';
import { checkFunction, checkRecord, readArgument, refuse } from './arguments.js';

/** Who holds an entry's arbiter: the request, and the member that originated it. */
export type ArbiterHolder = { readonly request: string; readonly originator: MemberName };

/** What a vote request does with the entry's arbiter: claim it (and vote), sleep on it, or vote no. */
export type ArbiterDecision = 'claim' | 'sleep' | 'refuse';

/** The decisions a member's core takes by rule (see {@link waitDieRules} for the rules of this package). */
export type StoreRules = {
  /** Figure 4-2 (a), lines 3-6: whether a new modification may claim an arbiter that is held (it sleeps otherwise). */
  readonly originateWhileHeld: boolean;
  /** Table 4.7: whether a new modification may take the modify lock while the blocking lock is set (it sleeps otherwise). */
  readonly modifyWhileBlocking: boolean;
  /** Whether the originator checks the precondition before it asks for votes. */
  readonly originatorChecksPrecondition: boolean;
  /** Whether a voter checks the precondition before it votes yes. */
  readonly voterChecksPrecondition: boolean;
  /** Figure 4-2 (b), lines 1-7: what a vote request from `originator` does when it meets the arbiter `holder` holds. */
  readonly arbitrate: (holder: ArbiterHolder | undefined, originator: MemberName) => ArbiterDecision;
  /** Figure 4-2 (b), `isOwnedBy`: whether a voter applies a committed outcome only where the request still owns the arbiter. */
  readonly applyOnlyIfOwner: boolean;
};

/**
 * The rules of this package: an arbiter is never taken from its holder. A request that meets a held
 * arbiter sleeps on it if its originator has priority (the lowest name) or is the holder's own
 * originator, and is refused otherwise (wait-die); a member never originates while the arbiter is
 * held, and votes yes only when its committed entry meets the precondition.
 */
export const waitDieRules: StoreRules = {
  originateWhileHeld: false,
  modifyWhileBlocking: false,
  originatorChecksPrecondition: true,
  voterChecksPrecondition: true,
  arbitrate: (holder, originator) => {
    // The core asks with names it has checked; a caller of its own gets BAD_REQUEST for anything else.
    if (typeof originator !== 'string')
      refuse(`an originator ${describeValue(originator)} is not a member name`, originator);
    if (holder === undefined) return 'claim';
    const holderOriginator = readArgument(
      holder,
      'an arbiter holder',
      () => (holder as Partial<ArbiterHolder> | null)?.originator,
    );
    if (typeof holderOriginator !== 'string')
      refuse(`an arbiter holder ${describeValue(holder)} names no originator`, holder);
    return originator <= holderOriginator ? 'sleep' : 'refuse';
  },
  applyOnlyIfOwner: false,
};

// Rules travel as a symbol-keyed property that no public option type names, so that no public option
// can switch them; `Symbol.for`, so that the library entry and the testing entry (bundled apart) agree.
const rulesKey = Symbol.for('@fos/distributed-store.rules');

const ruleFlags = [
  'originateWhileHeld',
  'modifyWhileBlocking',
  'originatorChecksPrecondition',
  'voterChecksPrecondition',
  'applyOnlyIfOwner',
] as const;

/** Rules as a core runs them: read once and checked (`BAD_REQUEST` for a flag that is not a boolean, or no `arbitrate`). */
function checkedRules(rules: unknown): StoreRules {
  return readArgument(rules, 'store rules', () => {
    checkRecord(rules, 'store rules');
    const checked: Record<string, unknown> = { arbitrate: rules.arbitrate };
    checkFunction(checked.arbitrate, 'the arbitrate rule');
    for (const flag of ruleFlags) {
      if (typeof rules[flag] !== 'boolean')
        refuse(`the rule ${flag} ${describeValue(rules[flag])} is not a boolean`, rules[flag]);
      checked[flag] = rules[flag];
    }
    return checked as StoreRules;
  });
}

/**
 * Makes the core (or member) built from `options` run `rules` instead of {@link waitDieRules}; returns
 * `options`. `BAD_REQUEST` for options that cannot take them (not an object, or frozen) or rules that
 * are not `StoreRules`; `options` is then unchanged.
 */
export function withStoreRules<T extends object>(options: T, rules: StoreRules): T {
  checkRecord(options, 'the options to give rules to');
  const checked = checkedRules(rules);
  try {
    Object.defineProperty(options, rulesKey, { value: checked, enumerable: true, configurable: true });
  } catch {
    refuse(`the options ${describeValue(options)} cannot take rules (frozen, or a proxy that refuses them)`, options);
  }
  return options;
}

/** The rules a core built from `options` runs. */
export function rulesOf(options: object): StoreRules {
  return (options as { [rulesKey]?: StoreRules })[rulesKey] ?? waitDieRules;
}
