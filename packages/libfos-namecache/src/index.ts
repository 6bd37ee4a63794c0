export {
  NameCache,
  nameCacheEntriesMax,
  nameCacheTtlMsMax,
  type NameCacheOptions,
  type NameCacheStats,
} from './name-cache.js';
