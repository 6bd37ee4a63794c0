// Every bound of the file system, as a named constant (the house rule: a limit on everything, with a
// clear error past it). Tar-format bounds are in tar.ts beside the parser they guard.

/** Bytes of one block of the block device server; reads are whole blocks. */
export const fsBlockBytes = 4096;
/** Blocks one block-device read may ask for (32 KiB: well inside a 64 KiB message). */
export const blockdevBlocksPerReadMax = 8;
/** Block reads one block device server serves at once; more wait in line (never a global lock). */
export const blockdevReadsInFlightMax = 64;
/** Bytes one `read` request may ask a member for (a longer read is split by the client). */
export const fsReadBytesMax = 32 * 1024;
/** Bytes of a file's head that the answer to `open` carries (reads inside it need no round trip). */
export const fsOpenHeadBytes = 4096;
/** Blocks a member's block cache holds by default (4 MiB); least recently used go first. */
export const fsBlockCacheBlocksDefault = 1024;
/** Blocks a member's block cache may be configured to hold (256 MiB). */
export const fsBlockCacheBlocksMax = 65_536;
/** Files one client (one fs component) may hold open at once; one more is `EMFILE`. */
export const fsOpenFilesPerClientMax = 1024;
/**
 * Files one member keeps open for all its clients; past it, the one used least recently is forgotten
 * (its client reopens it, told `EBADF`).
 */
export const fsOpenFilesPerMemberMax = 16_384;
/** Symbolic links followed while resolving one path; one more is `ELOOP` (as Linux's 40). */
export const fsSymlinkHopsMax = 40;
/** Bytes of a path (UTF-8), as `PATH_MAX`. */
export const fsPathBytesMax = 4096;
/** Names one `readdir` answer carries; the client asks again from where it stopped. */
export const fsReaddirPageMax = 256;
/** Members of one file-system fleet. */
export const fsMembersMax = 64;
/** Times the fs component reopens a file at another member before it gives up (`UNREACHABLE`). */
export const fsReopenAttemptsMax = 3;
/** Bytes a stream reads per request (the largest read a member answers). */
export const fsStreamChunkBytes = fsReadBytesMax;
