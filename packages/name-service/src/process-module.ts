/**
 * The module to spawn this package's process entries from (`nameServerMember`, `leaveFleetMember`, `listMember`):
 * the package's built ESM entry, `dist/index.js`, found beside whichever build is running. Spawning by
 * module and entry works on every fabric, worker threads included.
 *
 * @example
 * await machine.spawn({ core: 0, module: nameServiceProcessModule, entry: 'nameServerMember', args: { kernelCapability } });
 */
export const nameServiceProcessModule: string = new URL('./index.js', import.meta.url).href;
