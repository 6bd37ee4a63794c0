// The plans of Register and Unregister (thesis §4.3, Table 4.2): each reads what it needs through the
// workspace and records its writes there, without side effects, so that a store CONFLICT at commit can
// rewind it and the server can plan the request again from the start. Edges of the name graph are kept
// in both directions (destinations and referrers) so that removing a name finds every name leading to it.
import type { RegisterResult } from '@fos/libfos-messaging';
import { assert, parentDomain, rootDomain, type RandomSource } from '@fos/base';
import { formatLocation, hashCapability, mintCapability, sameLocation, type MailboxLocation } from '@fos/microkernel';
import type { NameEntry, StoredDestination } from '../entry.js';
import type { NameServiceLimits } from '../limits.js';
import { hashesEqual, withReferrers } from './helpers.js';
import { refuse, type ValidRegister, type ValidUnregister } from './requests.js';
import type { Workspace } from './workspace.js';

/** What a Register plan needs besides its workspace: chance for the capabilities it mints, and the limits. */
export interface RegisterPlanning {
  readonly random: RandomSource;
  readonly limits: NameServiceLimits;
}

function directEntry(
  capabilityHash: string,
  location: MailboxLocation,
  publishedCapability: string | undefined,
  active: boolean,
  referrers: readonly string[] = [],
): NameEntry {
  const entry: NameEntry =
    publishedCapability === undefined
      ? { type: 'direct', capabilityHash, location, active }
      : { type: 'direct', capabilityHash, location, publishedCapability, active };
  return withReferrers(entry, referrers);
}

/** Plans a Register: a new name, a direct name moved or reactivated, or a destination added. */
export async function planRegister(
  planning: RegisterPlanning,
  workspace: Workspace,
  request: ValidRegister,
): Promise<RegisterResult> {
  const { name, destination } = request;
  const capabilityHash = hashCapability(request.capability);
  const existing = await workspace.load(name);
  const ownsName = existing !== undefined && hashesEqual(existing.capabilityHash, capabilityHash);
  if (!ownsName) await authorizeNamespace(workspace, name, capabilityHash);
  if (existing === undefined) return planNewName(planning, workspace, request);
  assert(existing.type !== 'reservation', `the key of a name (${name}) never holds a reservation`);
  if (existing.type === 'direct' && destination.type === 'direct') {
    if (!ownsName)
      refuse('NAME_EXISTS', `${name} is registered; present its name capability to reactivate or move it`, name);
    workspace.set(
      name,
      directEntry(
        existing.capabilityHash,
        destination.location,
        destination.publishedCapability,
        request.active,
        existing.referrers,
      ),
    );
    return { nameCapability: request.capability };
  }
  if (existing.type === 'indirect' && destination.type === 'indirect')
    return planAddDestination(planning, workspace, request, destination, existing);
  return refuse(
    'NAME_EXISTS',
    `${name} is registered as a ${existing.type} name; it cannot take a ${destination.type} destination`,
    name,
  );
}

async function planNewName(
  planning: RegisterPlanning,
  workspace: Workspace,
  request: ValidRegister,
): Promise<RegisterResult> {
  const { name, destination } = request;
  if (destination.type === 'indirect' && destination.name === name)
    refuse('CYCLE', `${name} cannot be its own destination`, name);
  const nameCapability = mintCapability(planning.random);
  const capabilityHash = hashCapability(nameCapability);
  if (destination.type === 'direct') {
    workspace.set(
      name,
      directEntry(capabilityHash, destination.location, destination.publishedCapability, request.active),
    );
    return { nameCapability };
  }
  await linkReferrer(planning.limits, workspace, destination.name, name);
  const entry: NameEntry = {
    type: 'indirect',
    capabilityHash,
    destinations: [{ name: destination.name, weight: destination.weight, capabilityHash }],
    active: request.active,
  };
  workspace.set(name, request.loadBalancer === undefined ? entry : { ...entry, loadBalancer: request.loadBalancer });
  return { nameCapability };
}

async function planAddDestination(
  planning: RegisterPlanning,
  workspace: Workspace,
  request: ValidRegister,
  destination: { readonly name: string; readonly weight: number },
  existing: NameEntry,
): Promise<RegisterResult> {
  const { name } = request;
  const { limits } = planning;
  if (request.loadBalancer !== undefined)
    refuse('BAD_REQUEST', `register: ${name} exists; a load balancer is given only with a new indirect name`, request);
  if (destination.name === name) refuse('CYCLE', `${name} cannot be its own destination`, name);
  const destinations = existing.destinations ?? [];
  if (destinations.some((item) => item.name === destination.name))
    refuse('NAME_EXISTS', `${destination.name} is a destination of ${name} already`, destination.name);
  if (destinations.length >= limits.destinationsPerNameMax) {
    refuse(
      'LIMIT_EXCEEDED',
      `${name} has destinationsPerNameMax (${limits.destinationsPerNameMax}) destinations already`,
      name,
    );
  }
  await linkReferrer(limits, workspace, destination.name, name);
  const destinationCapability = mintCapability(planning.random);
  const added: StoredDestination = {
    name: destination.name,
    weight: destination.weight,
    capabilityHash: hashCapability(destinationCapability),
  };
  workspace.set(name, { ...existing, destinations: [...destinations, added], active: request.active });
  return { nameCapability: destinationCapability };
}

/** Records `referrer` on the entry of `target`, which must exist. */
async function linkReferrer(
  limits: NameServiceLimits,
  workspace: Workspace,
  target: string,
  referrer: string,
): Promise<void> {
  const entry = await workspace.load(target);
  if (entry === undefined) refuse('NO_SUCH_NAME', `destination ${target} is not registered`, target);
  const referrers = entry.referrers ?? [];
  if (referrers.length >= limits.referrersPerNameMax) {
    refuse(
      'LIMIT_EXCEEDED',
      `${target} is a destination of referrersPerNameMax (${limits.referrersPerNameMax}) names already`,
      target,
    );
  }
  workspace.set(target, withReferrers(entry, [...referrers, referrer]));
}

/** Removes `referrer` from the entry of `target`, if it still exists. */
async function unlinkReferrer(workspace: Workspace, target: string, referrer: string): Promise<void> {
  const entry = await workspace.load(target);
  if (entry === undefined) return;
  workspace.set(
    target,
    withReferrers(
      entry,
      (entry.referrers ?? []).filter((item) => item !== referrer),
    ),
  );
}

/**
 * Plans an Unregister: releases a reservation, deactivates a name, removes a name, or removes one
 * destination of an indirect name (the name too when it was the last).
 */
export async function planUnregister(workspace: Workspace, request: ValidUnregister): Promise<void> {
  const { name, destination } = request;
  const existing = await workspace.load(name);
  if (existing === undefined) refuse('NO_SUCH_NAME', `${name} is not registered`, name);
  const capabilityHash = hashCapability(request.capability);
  const ownsName = hashesEqual(existing.capabilityHash, capabilityHash);
  const ownsDestination =
    existing.destinations?.some(
      (item) => item.name === destination && hashesEqual(item.capabilityHash, capabilityHash),
    ) ?? false;
  if (!ownsName && !ownsDestination) await authorizeNamespace(workspace, name, capabilityHash);
  if (request.location !== undefined) {
    if (existing.type !== 'direct')
      refuse('BAD_REQUEST', `${name} is ${existing.type}, and a location applies to direct names only`, name);
    if (existing.location === undefined || !sameLocation(existing.location, request.location))
      refuse('NO_SUCH_NAME', `${name} is not registered at ${formatLocation(request.location)}`, request.location);
  }
  if (existing.type === 'reservation') {
    const inside = await workspace.firstNameUnder(name);
    if (inside !== undefined)
      refuse(
        'BAD_REQUEST',
        `${name} still has names under it (${inside}); unregister them before releasing it`,
        inside,
      );
    workspace.set(name, undefined);
    return;
  }
  if (request.deactivate) {
    if (existing.active) workspace.set(name, { ...existing, active: false });
    return;
  }
  if (destination === undefined) {
    await planRemoveName(workspace, name);
    return;
  }
  const destinations = existing.destinations ?? [];
  if (!destinations.some((item) => item.name === destination))
    refuse('NO_SUCH_NAME', `${destination} is not a destination of ${name}`, destination);
  const remaining = destinations.filter((item) => item.name !== destination);
  if (remaining.length === 0) {
    await planRemoveName(workspace, name);
    return;
  }
  workspace.set(name, { ...existing, destinations: remaining });
  await unlinkReferrer(workspace, destination, name);
}

/**
 * Removes a name and every edge to and from it; an indirect name left without destinations goes
 * too (a name with nowhere to lead means nothing), and so on up the graph.
 */
async function planRemoveName(workspace: Workspace, name: string): Promise<void> {
  const entry = await workspace.load(name);
  if (entry === undefined) return;
  workspace.set(name, undefined);
  for (const destination of entry.destinations ?? []) await unlinkReferrer(workspace, destination.name, name);
  for (const referrer of entry.referrers ?? []) {
    const referring = await workspace.load(referrer);
    if (referring?.type !== 'indirect') continue;
    const remaining = (referring.destinations ?? []).filter((item) => item.name !== name);
    if (remaining.length === 0) await planRemoveName(workspace, referrer);
    else workspace.set(referrer, { ...referring, destinations: remaining });
  }
}

/**
 * Accepts a namespace capability of any reserved sub-domain enclosing `name`, nearest first, up to
 * the root; `PERMISSION_DENIED` otherwise (never a parent's or a sibling's capability).
 */
export async function authorizeNamespace(workspace: Workspace, name: string, capabilityHash: string): Promise<void> {
  let domain: string | undefined = name === rootDomain ? undefined : parentDomain(name);
  while (domain !== undefined) {
    const entry = await workspace.load(domain);
    if (entry?.type === 'reservation' && hashesEqual(entry.capabilityHash, capabilityHash)) return;
    domain = domain === rootDomain ? undefined : parentDomain(domain);
  }
  refuse('PERMISSION_DENIED', `the capability covers neither ${name} nor a sub-domain enclosing it`, name);
}
