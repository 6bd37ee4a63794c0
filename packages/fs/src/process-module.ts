/**
 * The module to spawn this package's process entries from (`blockDeviceServer`, `fsMember`,
 * `fsLeaveMember`, `fsForgetMember`): the package's built ESM entry, `dist/index.js`, found beside
 * whichever build is running. Spawning by module and entry works on every fabric, worker threads included.
 */
export const fsProcessModule: string = new URL('./index.js', import.meta.url).href;
