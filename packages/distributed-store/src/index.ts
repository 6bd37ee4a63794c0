export { LocalStore, type LocalStoreOptions } from './local-store.js';
export { storeEntriesMax, storeKeyCharactersMax, storeValueBytesMax } from './limits.js';
export type { Store, Versioned } from './store.js';
