// The limits of the vocabulary itself: how long and deep a name may be, how large and deep a message
// body. The name limits and bodyDepthMax hold everywhere; messageBytesMax is the default size limit of
// the codec, from which a kernel's own limits start (a machine may set another for its kernels, which
// pass it to the codec on every send).

/** Characters of one name, sub-domain marker included (longer: `INVALID_NAME`). */
export const nameCharactersMax = 255;
/** Characters of one name segment (longer: `INVALID_NAME`). */
export const nameSegmentCharactersMax = 64;
/** Segments of one name (deeper: `INVALID_NAME`). */
export const nameDepthMax = 16;
/** Encoded bytes of one message body, the default of `encodeBody`'s `bytesMax` (larger: `MESSAGE_TOO_LARGE`). */
export const messageBytesMax = 64 * 1024;
/** Nesting depth of a message body in arrays and objects (deeper: `BAD_REQUEST`). */
export const bodyDepthMax = 64;
/** Characters of a value shown in an error message; the rest is counted, not shown. */
export const describedCharactersMax = 200;
