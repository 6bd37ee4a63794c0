// The test side of the portable harness: a RemoteAgent drives one agent process (see ./agent.ts)
// the same way on every fabric. Each command is a one-shot `agentCommand` process spawned
// on the agent's core; its spawn result is the agent's answer, and an error answer is rethrown here as
// the FosError it was.
import { FosError, isFosErrorCode, type MessageBody } from '@fos/base';
import type { Capability, MailboxLocation, ProcessHandle, SpawnOptions } from '@fos/microkernel';
import type {
  ListResult,
  LookupResult,
  RegisterRequest,
  RegisterResult,
  ReserveRequest,
  ReserveResult,
  TemporaryRequest,
  TemporaryResult,
  UnregisterRequest,
} from '@fos/libfos-messaging';
import type { Instance } from '../boot.js';
import { agentTopic } from '../cluster.js';

/**
 * Where agents run: anything that spawns processes as `Instance.spawn` does (a booted instance, or
 * another machine of a multi-machine instance reached with {@link peerMachine}).
 */
export interface AgentHost {
  spawn(options: SpawnOptions): Promise<Pick<ProcessHandle, 'result'>>;
}
import {
  agentArgsSchema,
  parseArgs,
  type AgentAddress,
  type AgentAnswer,
  type AgentCommand,
  type AgentStats,
  type AgentStreamResult,
} from './agent-protocol.js';

/**
 * The built agent process module (`dist/testing/agent.js` of this package): worker threads load built
 * JavaScript only, so every fabric spawns agents from the build. Found beside the running module when
 * it is the build, and in the package's `dist/` when it runs from the TypeScript sources (under a test
 * runner, which builds the package first).
 */
export const agentModule: URL = import.meta.url.endsWith('.ts')
  ? new URL('../../dist/testing/agent.js', import.meta.url)
  : new URL('./testing/agent.js', import.meta.url);

/** A mailbox of an agent, as the test holds it (what `aliasRegisterDirect` takes back). */
export type AgentMailbox = { readonly location: MailboxLocation; readonly capability: Capability };

/** What `aliasResolve` answers. */
export type AgentResolved = {
  readonly name: string;
  readonly chain: string[];
  readonly location: MailboxLocation;
  readonly publishedCapability: Capability | null;
};

function isAnswer(value: unknown): value is AgentAnswer {
  if (typeof value !== 'object' || value === null) return false;
  if ('ok' in value) return true;
  const error = (value as { error?: unknown }).error;
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string' &&
    typeof (error as { message?: unknown }).message === 'string'
  );
}

/** One agent process on one core of an instance, driven by commands. */
export class RemoteAgent {
  readonly instance: AgentHost;
  readonly core: number;
  readonly name: string;
  readonly #address: AgentAddress;

  private constructor(instance: AgentHost, core: number, address: AgentAddress) {
    this.instance = instance;
    this.core = core;
    this.name = address.name;
    this.#address = address;
  }

  /**
   * Spawns an agent named `name` (for logs and its records) on `core`. `channelAfterSends`: its
   * libfos's limit of that name (0: never a user-space channel); the default when absent.
   * `recordedMax`: messages its served mailboxes record before they only count them
   * (`agentRecordedMax` when absent).
   */
  static async spawn(
    instance: AgentHost,
    core: number,
    name: string,
    options: { channelAfterSends?: number; recordedMax?: number } = {},
  ): Promise<RemoteAgent> {
    // Checked here too, so that bad options are BAD_REQUEST here rather than a crashed agent.
    const args = parseArgs('RemoteAgent.spawn', agentArgsSchema, { name, ...options });
    const handle = await instance.spawn({ core, name: `agent ${name}`, module: agentModule, entry: 'agent', args });
    return new RemoteAgent(instance, core, handle.result as AgentAddress);
  }

  /** Sends one command and returns the agent's answer; rethrows an error answer as a FosError. */
  async command(command: AgentCommand): Promise<MessageBody> {
    const control = { location: this.#address.location, capability: this.#address.capability };
    const handle = await this.instance.spawn({
      core: this.core,
      name: `agent ${this.name}: ${command.op}`,
      module: agentModule,
      entry: 'agentCommand',
      args: { control, command: command as MessageBody },
    });
    const answer = handle.result;
    if (!isAnswer(answer))
      throw new Error(`agent ${this.name}: ${command.op}: not an answer: ${JSON.stringify(answer)}`);
    if ('error' in answer) {
      const { code, message } = answer.error;
      throw isFosErrorCode(code)
        ? new FosError(code, `agent ${this.name}: ${command.op}: ${message}`)
        : new Error(`agent ${this.name}: ${command.op}: ${code}: ${message}`);
    }
    return answer.ok;
  }

  /** A served mailbox that records what it gets (as `label:JSON(body)`) and answers requests with `{ from: label, echo }`. */
  async createMailbox(label?: string): Promise<AgentMailbox> {
    return (await this.command(
      label === undefined
        ? { op: 'createMailbox', behaviour: 'record' }
        : { op: 'createMailbox', behaviour: 'record', label },
    )) as AgentMailbox;
  }

  /** A mailbox nobody serves: read it with {@link receive} and {@link tryReceive}. */
  async createQueueMailbox(): Promise<AgentMailbox> {
    return (await this.command({ op: 'createMailbox', behaviour: 'queue' })) as AgentMailbox;
  }

  async aliasRegisterDirect(
    name: string,
    mailbox: AgentMailbox,
    capability: Capability,
    options: { publish?: boolean; active?: boolean } = {},
  ): Promise<Capability> {
    return (await this.command({
      op: 'aliasRegisterDirect',
      name,
      mailbox: { location: mailbox.location, capability: mailbox.capability },
      capability,
      ...options,
    })) as Capability;
  }

  /** Registers each name for `mailbox` (at most `agentBulkNamesMax` per call); answers how many. */
  async aliasRegisterDirectMany(
    names: readonly string[],
    mailbox: AgentMailbox,
    capability: Capability,
  ): Promise<number> {
    return (await this.command({
      op: 'aliasRegisterDirectMany',
      names: [...names],
      mailbox: { location: mailbox.location, capability: mailbox.capability },
      capability,
    })) as number;
  }

  async aliasRegisterIndirect(
    name: string,
    destination: string,
    capability: Capability,
    options: { weight?: number } = {},
  ): Promise<Capability> {
    return (await this.command({
      op: 'aliasRegisterIndirect',
      name,
      destination,
      capability,
      ...options,
    })) as Capability;
  }

  async unregisterDirect(name: string, location: MailboxLocation, capability: Capability): Promise<void> {
    await this.command({ op: 'unregisterDirect', name, location, capability });
  }

  async unregisterIndirect(name: string, destination: string, capability: Capability): Promise<void> {
    await this.command({ op: 'unregisterIndirect', name, destination, capability });
  }

  async send(name: string, body: MessageBody, options: { capability?: Capability } = {}): Promise<void> {
    await this.command({ op: 'send', name, body, ...options });
  }

  /** A request and the body of its response. */
  async call(name: string, body: MessageBody, options: { capability?: Capability } = {}): Promise<MessageBody> {
    return this.command({ op: 'call', name, body, ...options });
  }

  async aliasResolve(name: string): Promise<AgentResolved> {
    return (await this.command({ op: 'aliasResolve', name })) as AgentResolved;
  }

  /** A name-service Lookup (uncached). */
  async lookup(name: string): Promise<LookupResult> {
    return (await this.command({ op: 'lookup', name })) as LookupResult;
  }

  /**
   * `lookups` uncached Lookups of `name` in the agent, `concurrency` at a time; how many led to each
   * destination (`next` of an indirect answer, else the name).
   */
  async lookupShares(name: string, lookups: number, concurrency: number): Promise<Map<string, number>> {
    const counts = (await this.command({ op: 'lookupShares', name, lookups, concurrency })) as Record<string, number>;
    return new Map(Object.entries(counts));
  }

  /** The name service's listing (management capability). */
  async list(capability: Capability, under?: string): Promise<ListResult> {
    return (await this.command(
      under === undefined ? { op: 'list', capability } : { op: 'list', capability, under },
    )) as ListResult;
  }

  /** The name-service calls, forwarded as they are (a malformed request reaches the service). */
  async register(request: RegisterRequest): Promise<RegisterResult> {
    return (await this.command({ op: 'nsRegister', request: request as MessageBody })) as RegisterResult;
  }

  async unregister(request: UnregisterRequest): Promise<void> {
    await this.command({ op: 'nsUnregister', request: request as MessageBody });
  }

  async registerTemporary(request: TemporaryRequest): Promise<TemporaryResult> {
    return (await this.command({ op: 'nsRegisterTemporary', request: request as MessageBody })) as TemporaryResult;
  }

  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    return (await this.command({ op: 'nsReserve', request: request as MessageBody })) as ReserveResult;
  }

  /** The kernel names of mailboxes the agent owns, per mailbox (in the order given). */
  async mailboxNames(locations: readonly MailboxLocation[]): Promise<string[][]> {
    return (await this.command({ op: 'mailboxNames', locations: [...locations] })) as string[][];
  }

  async getCanonicalAlias(): Promise<string> {
    return (await this.command({ op: 'canonicalAlias' })) as string;
  }

  /** What the agent's served mailboxes recorded, in arrival order. */
  async received(): Promise<string[]> {
    return (await this.command({ op: 'received' })) as string[];
  }

  async stats(): Promise<AgentStats> {
    return (await this.command({ op: 'stats' })) as AgentStats;
  }

  /** Waits `ms` on the machine clock (virtual under simulation), in the agent. */
  async settle(ms = 5): Promise<void> {
    await this.command({ op: 'settle', ms });
  }

  /** Closes the agent's libfos (unregisters its canonical alias); the agent still answers commands. */
  async close(): Promise<void> {
    await this.command({ op: 'close' });
  }

  async addCapability(location: MailboxLocation): Promise<Capability> {
    return (await this.command({ op: 'addCapability', location })) as Capability;
  }

  async removeCapability(location: MailboxLocation, capability: Capability): Promise<void> {
    await this.command({ op: 'removeCapability', location, capability });
  }

  /** A channel the agent holds; returns its index for {@link channelSend} and {@link channelClosed}. */
  async createChannel(name: string, location: MailboxLocation, capability: Capability): Promise<number> {
    return (await this.command({ op: 'createChannel', name, location, capability })) as number;
  }

  async channelSend(channel: number, body: MessageBody): Promise<void> {
    await this.command({ op: 'channelSend', channel, body });
  }

  async channelClosed(channel: number): Promise<boolean> {
    return (await this.command({ op: 'channelClosed', channel })) as boolean;
  }

  /** The next message body of a queue mailbox, waiting for one. */
  async receive(location: MailboxLocation): Promise<MessageBody> {
    return this.command({ op: 'receive', location });
  }

  /** The next message body of a queue mailbox, or undefined when none waits. */
  async tryReceive(location: MailboxLocation): Promise<MessageBody | undefined> {
    const answer = (await this.command({ op: 'tryReceive', location })) as { received: boolean; body?: MessageBody };
    return answer.received ? answer.body : undefined;
  }

  /** Makes `name` inactive (senders wait) before its mailbox moves. */
  async deactivate(name: string, capability: Capability): Promise<void> {
    await this.command({ op: 'deactivate', name, capability });
  }

  /** Hands one of the agent's mailboxes (queue, names, capabilities) to `successor`; the names moved. */
  async handOverMailbox(location: MailboxLocation, successor: AgentMailbox): Promise<string[]> {
    const moved = (await this.command({
      op: 'handOverMailbox',
      location,
      successor: { location: successor.location, capability: successor.capability },
    })) as { names: string[] };
    return moved.names;
  }

  /**
   * Starts the agent's stream of `{ sequence }` sends to `name` (0, 1, 2, …), at most `window`
   * outstanding, a pause of `intervalMs` (machine clock) after each send begins.
   */
  async streamStart(name: string, options: { window: number; intervalMs: number }): Promise<void> {
    await this.command({ op: 'streamStart', name, ...options });
  }

  /** Waits until `completed` sends of the stream are done; answers how many are. */
  async streamWait(completed: number): Promise<number> {
    return (await this.command({ op: 'streamWait', completed })) as number;
  }

  /** Stops the stream once its outstanding sends are done. */
  async streamStop(): Promise<AgentStreamResult> {
    return (await this.command({ op: 'streamStop' })) as AgentStreamResult;
  }
}

/**
 * Another machine of a multi-machine instance as a place for agents: each spawn is asked of it through
 * `via`'s proxy (`agentTopic`), and it answers only when started with `agents` (`fos start --agents`).
 * Only agent processes (this module's `agentModule`) can be spawned this way.
 */
export function peerMachine(via: Instance, machine: string): AgentHost {
  return {
    async spawn(options) {
      if (
        options.module?.toString() !== agentModule.toString() ||
        (options.entry !== 'agent' && options.entry !== 'agentCommand')
      )
        throw new FosError('BAD_REQUEST', `peerMachine spawns agents only, not ${String(options.entry)}`, {
          value: options.entry,
        });
      const cluster = via.cluster;
      if (cluster === undefined)
        throw new FosError('BAD_REQUEST', 'peerMachine needs a machine of a multi-machine instance', {
          value: machine,
        });
      const answer = (await cluster.proxy.ask(machine, agentTopic, {
        core: options.core,
        name: options.name ?? 'agent',
        entry: options.entry,
        args: options.args ?? null,
      })) as { result?: MessageBody };
      return { result: answer.result };
    },
  };
}
