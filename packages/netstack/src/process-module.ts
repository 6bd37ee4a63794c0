/**
 * The module to spawn this package's process entries from (`netif`, `netstackMember`,
 * `netstackLeaveMember`, `netstackForgetMember`): the package's built ESM entry, `dist/index.js`,
 * found beside whichever build is running. Spawning by module and entry works on every fabric.
 */
export const netstackProcessModule: string = new URL('./index.js', import.meta.url).href;
