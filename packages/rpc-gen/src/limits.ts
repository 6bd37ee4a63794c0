/** API interfaces one input file may declare. */
export const interfacesMax = 64;

/** Methods one API interface may have (inherited ones included). */
export const methodsMax = 256;

/** Parameters one method may take. */
export const parametersMax = 32;

/** Members one object type may have. */
export const membersMax = 256;

/**
 * How deep types may nest inside one argument or result (an array of objects of tuples...), well below
 * the message codec's `bodyDepthMax` (64) so that every value a schema admits can also be sent.
 */
export const typeDepthMax = 32;

/** Input files one run may take. */
export const inputFilesMax = 256;
