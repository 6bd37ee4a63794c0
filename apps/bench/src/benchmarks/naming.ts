import { spawnLibfos, type Libfos } from '@fos/libfos-messaging';
import type { MessageBody } from '@fos/base';
import type { Capability, CreatedMailbox, LocalFabric } from '@fos/microkernel';
import { boot, type Instance } from '@fos/system';

/** A booted local instance with its name service (one member, on core 0) and the root namespace capability. */
export interface NamedInstance {
  readonly instance: Instance<LocalFabric>;
  /** The namespace capability of `/*` the booter holds. */
  readonly root: Capability;
}

/** Boots `boot({ fabric: 'local', cores })`: a machine whose name-service member runs on core 0. */
export async function bootNamed(cores: number): Promise<NamedInstance> {
  const instance = await boot({ fabric: 'local', cores });
  const service = instance.nameService;
  if (service === undefined) {
    await instance.shutdown();
    throw new Error('boot started no name service');
  }
  return { instance, root: service.rootCapability };
}

/** Spawns a process on `core` whose entry assembles its libfos, and hands that libfos to the benchmark (same thread). */
export function libfosOn(instance: Instance, core: number, name: string): Promise<Libfos> {
  return spawnLibfos(instance, core, name);
}

/**
 * A served mailbox of `libfos`'s process, registered under `name` (`AliasRegisterDirect`, publishing
 * its send capability); `handler` answers each request (default: its body).
 */
export async function serveNamed(
  libfos: Libfos,
  name: string,
  root: Capability,
  handler: (body: MessageBody) => MessageBody = (body) => body,
): Promise<CreatedMailbox> {
  const mailbox = await libfos.createMailbox();
  libfos.serve(mailbox.location, { handler: (request) => handler(request.body) });
  await libfos.aliasRegisterDirect(name, mailbox, root);
  return mailbox;
}

/** `count` operations in `elapsedMs`, per second. */
export function perSecond(count: number, elapsedMs: number): number {
  return count / (elapsedMs / 1000);
}
