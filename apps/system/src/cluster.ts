// One instance across machines (thesis §2.2, §5.1, §7.4). Each machine runs a proxy process that
// carries its kernel's sends to other machines. A machine either founds the instance (it listens) or
// joins a running one: it dials any machine of the instance, asks it for an invitation over the
// proxy's question channel (the only thing it can do before it has a name server), dials every other
// machine it learns of, starts its own name-service members, which join the replicated store through
// the inviting machine's member, and registers its proxy under the global name /sys/proxy/<machine>.
// From then on every machine is an equal: any of them admits the next one.
//
// Machine names: each machine's members are named after it (`<machine>-ns00`), and the replicated
// store refuses a member name it holds already (a two-phase-committed membership change), so two
// machines of one name can never both join; a proxy also refuses a second connection naming a machine
// it is connected to.
import { describeValue, FosError, isFosError, type MessageBody } from '@fos/base';
import { createLibfos, type Libfos, type ListedName } from '@fos/libfos-messaging';
import {
  isCapability,
  mailboxLocationSchema,
  type Capability,
  type Machine,
  type ProcessContext,
} from '@fos/microkernel';
import {
  machineNameSchema,
  proxyConnectionsMax,
  startProxy,
  type ByteLink,
  type Proxy,
  type ProxyListener,
  type ProxyPeer,
  type ProxyTransport,
} from '@fos/proxy';
import { z } from 'zod';
import type { FleetInvitation, NameServiceFleet } from './fleet.js';
import { agentModule } from './testing/remote-agent.js';

/** Characters of a machine name in a multi-machine instance (its members are named `<machine>-nsNN`). */
export const clusterMachineNameMax = 24;
/** The question a joining machine asks (see `Proxy.ask`). */
export const joinTopic = 'fos.join';
/** The question a leaving machine asks another one: remove the names of my mailboxes (see `leave`). */
export const leaveTopic = 'fos.leave';
/** The question that spawns a test agent on a machine started with `agents` (see `peerMachine`). */
export const agentTopic = 'fos.agent';
/** The sub-domain of the machines' proxies: `/sys/proxy/<machine>`. */
export const proxyNamePrefix = '/sys/proxy/';
/** Listing rounds a leaving machine takes to unregister its names (each round removes up to `listNamesMax`). */
export const leaveListRoundsMax = 64;

/** A machine of the instance and where it accepts connections (null: it dials, nobody dials it). */
export interface MachineInfo {
  readonly machine: string;
  readonly listen: string | null;
}

/** Options of {@link MachineCluster.start}. */
export interface ClusterStartOptions {
  readonly transport: ProxyTransport;
  /** Where to accept other machines (a TLS `host:port`, port 0 for any free one). */
  readonly listen?: string | undefined;
  /** The address of a machine of the running instance to join; absent: this machine founds one. */
  readonly join?: string | undefined;
  /** The core of the proxy process. */
  readonly core: number;
  /** Where connections, joins and leaves are reported. */
  readonly log: (line: string) => void;
  /** Answer {@link agentTopic}: spawn test agents (`@fos/system/testing`) for other machines. */
  readonly agents?: boolean;
  /**
   * Starts this machine's name-service members once the proxy is up: with the invitation when it
   * joins, without one when it founds the instance.
   */
  readonly startNameService: (invitation: FleetInvitation | undefined) => Promise<NameServiceFleet>;
}

const capabilitySchema = z.custom<Capability>((value) => isCapability(value), 'is not a capability');
const joinQuestionSchema = z.strictObject({ machine: machineNameSchema });
const agentQuestionSchema = z.strictObject({
  core: z.number().int().min(0),
  name: z.string().min(1).max(200),
  entry: z.enum(['agent', 'agentCommand']),
  args: z.unknown(),
});
const invitationSchema = z.strictObject({
  rootCapability: capabilitySchema,
  managementCapability: capabilitySchema,
  fleetCapabilities: z.strictObject({ managementCapability: capabilitySchema, temporaryCapability: capabilitySchema }),
  sponsor: z.strictObject({
    member: z.string().min(1).max(32),
    name: z.string().min(1).max(255),
    location: mailboxLocationSchema,
    capability: capabilitySchema,
  }),
});
const welcomeSchema = z.strictObject({
  invitation: invitationSchema,
  machines: z
    .array(z.strictObject({ machine: machineNameSchema, listen: z.string().min(1).max(300).nullable() }))
    .max(proxyConnectionsMax),
});

/** What an inviting machine answers a joining one. */
type Welcome = z.infer<typeof welcomeSchema>;

/**
 * A machine's place in a multi-machine instance: its proxy, the listener, the name service it runs,
 * and the clean leave.
 */
export class MachineCluster {
  readonly #machine: Machine;
  readonly #options: ClusterStartOptions;
  #proxy: Proxy | undefined;
  #listener: ProxyListener | undefined;
  #fleet: NameServiceFleet | undefined;
  #libfos: Libfos | undefined;
  #state: 'starting' | 'running' | 'left' | 'closed' = 'starting';

  private constructor(machine: Machine, options: ClusterStartOptions) {
    this.#machine = machine;
    this.#options = options;
  }

  /**
   * Starts the machine's proxy, listens, founds or joins the instance, starts the name service (see
   * {@link ClusterStartOptions.startNameService}) and registers the proxy as `/sys/proxy/<machine>`.
   * On any failure everything it started is closed again and the error comes back: `UNREACHABLE`
   * (nothing answers at the join address), `CONFLICT` (the machine name is taken in the instance),
   * `BAD_REQUEST` (the machine dialled cannot invite: it runs no fleet).
   */
  static async start(machine: Machine, options: ClusterStartOptions): Promise<MachineCluster> {
    const cluster = new MachineCluster(machine, options);
    try {
      await cluster.#start();
      return cluster;
    } catch (error) {
      await cluster.close();
      throw error;
    }
  }

  /** This machine's name. */
  get machine(): string {
    return this.#machine.name;
  }

  /** Where this machine accepts other machines (null: it does not listen). */
  get listen(): string | null {
    return this.#listener?.address ?? null;
  }

  /** The machine's proxy. */
  get proxy(): Proxy {
    const proxy = this.#proxy;
    if (proxy === undefined) throw new FosError('SHUTDOWN', `the proxy of ${this.machine} is not running`);
    return proxy;
  }

  /** The name service this machine runs (its members of the instance's fleet). */
  get nameService(): NameServiceFleet | undefined {
    return this.#fleet;
  }

  /** This machine and the machines it is connected to now. */
  machines(): MachineInfo[] {
    const others = this.#proxy?.peers() ?? [];
    return [
      { machine: this.machine, listen: this.listen },
      ...others.map((peer) => ({ machine: peer.machine, listen: peer.listen })),
    ];
  }

  async #start(): Promise<void> {
    const { transport, log } = this.#options;
    let context: ProcessContext | undefined;
    await this.#machine.spawn({ core: this.#options.core, name: 'proxy', function: (c) => void (context = c) });
    const proxyContext = context!;
    // Connections accepted before the proxy exists wait for it (the listener starts first so that
    // the proxy's hello can carry the address it really got).
    const early: ByteLink[] = [];
    if (this.#options.listen !== undefined)
      this.#listener = await transport.listen(this.#options.listen, (link) => {
        if (this.#proxy === undefined) early.push(link);
        else this.#accept(link);
      });
    this.#proxy = await startProxy(proxyContext, {
      kernelCapability: this.#machine.kernelCapability,
      listen: this.listen,
      log: (line) => log(line),
      onQuestion: (peer, topic, question) => this.#answer(peer, topic, question),
    });
    for (const link of early.splice(0)) this.#accept(link);
    let invitation: FleetInvitation | undefined;
    if (this.#options.join !== undefined) invitation = await this.#join(this.#options.join);
    this.#fleet = await this.#options.startNameService(invitation);
    this.#libfos = await createLibfos(proxyContext);
    const mailbox = await this.#libfos.createMailbox();
    this.#libfos.serve(mailbox.location, {
      handler: () => ({ machines: this.machines().map((info) => ({ ...info })) }),
    });
    const name = `${proxyNamePrefix}${this.machine}`;
    try {
      await this.#libfos.aliasRegisterDirect(name, mailbox, this.#fleet.rootCapability);
    } catch (error) {
      if (isFosError(error) && error.code === 'NAME_EXISTS')
        throw new FosError('CONFLICT', `machine name ${this.machine} is taken in the instance (${name} exists)`, {
          value: this.machine,
        });
      throw error;
    }
    this.#state = 'running';
  }

  #accept(link: ByteLink): void {
    this.proxy.addLink(link).then(
      (peer) => this.#options.log(`fos: machine ${peer.machine} connected (${peer.remote})`),
      (error: unknown) =>
        this.#options.log(`fos: a connection from ${link.remote} was refused: ${(error as Error).message}`),
    );
  }

  /** Joins through the machine at `address`: its invitation, then a connection to every machine it knows. */
  async #join(address: string): Promise<FleetInvitation> {
    const proxy = this.proxy;
    let reply: unknown;
    let inviter = address;
    try {
      inviter = (await proxy.addLink(await this.#options.transport.connect(address, this.machine))).machine;
      reply = await proxy.ask(inviter, joinTopic, { machine: this.machine });
    } catch (error) {
      if (isFosError(error) && error.code === 'CONFLICT')
        throw new FosError('CONFLICT', `machine ${this.machine} cannot join through ${address}: ${error.message}`, {
          value: this.machine,
        });
      throw error;
    }
    const answer = welcomeSchema.safeParse(reply);
    if (!answer.success)
      throw new FosError(
        'BAD_REQUEST',
        `machine ${inviter} answered the join with ${describeValue(answer.error.issues[0]?.path)}: ${answer.error.issues[0]?.message ?? 'invalid'}`,
        { value: inviter },
      );
    const welcome: Welcome = answer.data;
    const connected = new Set(proxy.peers().map((peer) => peer.machine));
    await Promise.all(
      welcome.machines
        .filter((info) => info.listen !== null && info.machine !== this.machine && !connected.has(info.machine))
        .map(async (info) => {
          try {
            await proxy.addLink(await this.#options.transport.connect(info.listen!, this.machine));
          } catch (error) {
            // Sends to it fail UNREACHABLE; the instance goes on without that connection.
            this.#options.log(
              `fos: machine ${info.machine} at ${info.listen} cannot be reached: ${(error as Error).message}`,
            );
          }
        }),
    );
    return welcome.invitation;
  }

  /** Another machine's question: a join, and (with `agents`) an agent to spawn. */
  async #answer(peer: ProxyPeer, topic: string, question: unknown): Promise<unknown> {
    if (topic === agentTopic && this.#options.agents === true) {
      const parsed = agentQuestionSchema.safeParse(question);
      if (!parsed.success)
        throw new FosError('BAD_REQUEST', `an agent request from ${peer.machine} is malformed`, { value: question });
      const { core, name, entry, args } = parsed.data;
      const handle = await this.#machine.spawn({
        core,
        name,
        module: agentModule,
        entry,
        args: args as MessageBody,
      });
      return { result: handle.result };
    }
    if (topic === leaveTopic) {
      const parsed = joinQuestionSchema.safeParse(question);
      if (!parsed.success || parsed.data.machine !== peer.machine)
        throw new FosError('BAD_REQUEST', `a leave must name the machine that asks (${peer.machine})`, {
          value: question,
        });
      if (this.#state !== 'running')
        throw new FosError('SHUTDOWN', `machine ${this.machine} is ${this.#state}`, { value: this.machine });
      return { removed: await unregisterNamesOn(this.#libfos!, peer.machine, this.#fleet!) };
    }
    if (topic !== joinTopic)
      throw new FosError('BAD_REQUEST', `machine ${this.machine} answers no question ${describeValue(topic)}`, {
        value: topic,
      });
    const parsed = joinQuestionSchema.safeParse(question);
    if (!parsed.success || parsed.data.machine !== peer.machine)
      throw new FosError('BAD_REQUEST', `a join must name the machine that asks (${peer.machine})`, {
        value: question,
      });
    if (this.#state !== 'running' || this.#fleet === undefined)
      throw new FosError('SHUTDOWN', `machine ${this.machine} is not admitting machines now (${this.#state})`, {
        value: this.machine,
      });
    const invitation = this.#fleet.invitation();
    this.#options.log(`fos: machine ${peer.machine} joins the instance`);
    return {
      invitation: {
        ...invitation,
        fleetCapabilities: { ...invitation.fleetCapabilities },
        sponsor: { ...invitation.sponsor },
      },
      machines: this.machines()
        .filter((info) => info.machine !== peer.machine)
        .map((info) => ({ ...info })),
    };
  }

  /**
   * Leaves the instance cleanly. Its name-service members leave the fleet first: they stop serving
   * this machine's processes (nothing here can register another name) and leave the replicated store
   * once nothing they started is pending. Then another machine is asked (`leaveTopic`) to unregister
   * every name of a mailbox here, and to take those names out of the indirect names that lead to
   * them, from a table that holds everything this machine's members committed. A member that is the
   * instance's last stays (logged), and this machine cleans up its names itself. The connections stay
   * until {@link close}.
   */
  async leave(): Promise<void> {
    if (this.#state !== 'running') return;
    this.#state = 'left';
    const fleet = this.#fleet!;
    const libfos = this.#libfos!;
    const { left, stayed } = await fleet.leaveAll();
    let cleaned: string | undefined;
    if (stayed.length === 0)
      for (const peer of this.proxy.peers()) {
        try {
          await this.proxy.ask(peer.machine, leaveTopic, { machine: this.machine });
          cleaned = peer.machine;
          break;
        } catch (error) {
          this.#options.log(
            `fos: machine ${peer.machine} could not remove the names of ${this.machine}: ${(error as Error).message}`,
          );
        }
      }
    if (cleaned === undefined) await unregisterNamesOn(libfos, this.machine, fleet);
    await libfos.close();
    this.#options.log(
      `fos: machine ${this.machine} left the instance (members that left: ${left.join(', ') || 'none'}${stayed.length > 0 ? `; the instance's last: ${stayed.join(', ')}` : ''}; its names removed by ${cleaned ?? this.machine})`,
    );
  }

  /** Stops listening and closes the proxy (every connection; sends in flight fail `UNREACHABLE`). */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    await this.#listener?.close();
    await this.#proxy?.close();
  }
}

/**
 * Unregisters every direct name of a mailbox on `machine`, after taking it out of the indirect names
 * that lead to it; in rounds while the listing is truncated (at most {@link leaveListRoundsMax}).
 */
async function unregisterNamesOn(libfos: Libfos, machine: string, fleet: NameServiceFleet): Promise<number> {
  let removed = 0;
  for (let round = 0; round < leaveListRoundsMax; round++) {
    const listing = await libfos.nameService.list({ capability: fleet.managementCapability });
    const here = new Set(
      listing.names
        .filter((entry) => entry.type === 'direct' && entry.location?.machine === machine)
        .map((entry) => entry.name),
    );
    const leading = listing.names.flatMap((entry: ListedName) =>
      entry.type === 'indirect'
        ? (entry.destinations ?? []).filter((to) => here.has(to.name)).map((to) => [entry.name, to.name] as const)
        : [],
    );
    for (const [name, destination] of leading)
      await ignoreMissing(libfos.unregisterIndirect(name, destination, fleet.rootCapability));
    for (const name of here) await ignoreMissing(libfos.unregisterName(name, fleet.rootCapability));
    removed += here.size;
    if (!listing.truncated || (here.size === 0 && leading.length === 0)) break;
  }
  return removed;
}

async function ignoreMissing(change: Promise<void>): Promise<void> {
  try {
    await change;
  } catch (error) {
    // Someone else took it away first.
    if (!isFosError(error) || error.code !== 'NO_SUCH_NAME') throw error;
  }
}
