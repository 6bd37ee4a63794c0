// `fos fs ls|cat|stat IMAGE [PATH]`: boots an instance over a tar image, reads through a client
// process's fs component, prints, shuts down.
import { assert, type MessageBody } from '@fos/base';
import { boot } from './boot.js';

/** What `fos fs` does. */
export interface FsCommandOptions {
  readonly verb: 'ls' | 'cat' | 'stat';
  readonly image: string;
  readonly path: string;
  readonly members: number;
  /** The module of the client process (default: the built `processes.js` beside this module). */
  readonly processesModule?: string | URL;
}

/** Cores of the instance `fos fs` boots: the name server and block device, the members, the client. */
export const fsCommandCores = 4;

/**
 * Runs one `fos fs` command; returns what to print (`cat` prints the file itself, from the client
 * process, and returns an empty string). Errors are the fleet's (`FosError`, `details.errno`).
 */
export async function runFsCommand(options: FsCommandOptions): Promise<string> {
  const instance = await boot({
    fabric: 'local',
    cores: fsCommandCores,
    fs: { image: options.image, members: options.members },
  });
  try {
    const client = await instance.spawn({
      core: fsCommandCores - 1,
      module: options.processesModule ?? new URL('./processes.js', import.meta.url),
      entry: 'fsRead',
      name: 'fs-client',
      args: { verb: options.verb, path: options.path },
    });
    return formatFsResult(options.verb, client.result);
  } finally {
    await instance.shutdown();
  }
}

function formatFsResult(verb: FsCommandOptions['verb'], result: MessageBody): string {
  assert(typeof result === 'object' && result !== null, 'the fs client returns an object');
  const record = result as Record<string, unknown>;
  if (verb === 'ls') return (record.names as string[]).map((name) => `${name}\n`).join('');
  if (verb === 'stat') {
    const { path, type, size, mode, mtimeMs } = record as {
      path: string;
      type: string;
      size: number;
      mode: number;
      mtimeMs: number;
    };
    return `${path === '' ? '/' : path}: ${type}, ${size} bytes, mode ${mode.toString(8).padStart(4, '0')}, modified ${new Date(mtimeMs).toISOString()}\n`;
  }
  return '';
}
