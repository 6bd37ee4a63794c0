// The public surface of @fos/fs: a block device server, a read-only file-system fleet over tar
// images, and the libfos fs component (FosFs) through which a process reads files as with node:fs.
export { FosFs, FosFileHandle, fsFleetName, fsMemberHopsMax, fsReadFileInFlight } from './client.js';
export type { FosFsOptions, FosFsStats, FosReadResult } from './client.js';
export { FsFleet, fsForgetMember, fsLeaveMember, type FsFleetOptions, type FsSpawner } from './fleet.js';
export { fsMember, fsLeaveGraceMs, type FsMemberArgs, type FsMemberResult } from './member.js';
export {
  blockDeviceServer,
  fileBlockSource,
  memoryBlockSource,
  serveBlockDevice,
  type BlockDeviceArgs,
  type BlockDeviceRefusal,
  type BlockDeviceResult,
  type BlockSource,
} from './block-device.js';
export { BlockCache, type BlockCacheStats, type ReadBlocks } from './block-cache.js';
export { errnoOf, fsErrnoCodes, fsError, isFsErrno, type FsErrno } from './errors.js';
export { fsProcessModule } from './process-module.js';
export type {
  BlockDeviceInfo,
  BlockDeviceRequest,
  FsMemberInfo,
  FsOpenResult,
  FsReaddirResult,
  FsReadResult,
  FsRequest,
  FsStatResult,
} from './protocol.js';
export {
  scanTar,
  tarBlockBytes,
  tarEntriesMax,
  tarPaxHeaderBytesMax,
  type ReadAt,
  type TarEntry,
  type TarEntryType,
  type TarProblem,
  type TarScan,
} from './tar.js';
export { ImageIndex, type FsFile, type FsNodeType, type FsStat } from './image-index.js';
export {
  blockdevBlocksPerReadMax,
  blockdevReadsInFlightMax,
  fsBlockBytes,
  fsBlockCacheBlocksDefault,
  fsBlockCacheBlocksMax,
  fsMembersMax,
  fsOpenFilesPerClientMax,
  fsOpenFilesPerMemberMax,
  fsOpenHeadBytes,
  fsPathBytesMax,
  fsReaddirPageMax,
  fsReadBytesMax,
  fsReopenAttemptsMax,
  fsStreamChunkBytes,
  fsSymlinkHopsMax,
} from './limits.js';
