/**
 * A tiny layout model for generated expressions: text, concatenations, and bracketed groups that
 * print on one line when they fit and one item per line when they do not.
 */
export type Code = string | Group | readonly Code[];

/** A bracketed, comma-separated list (`z.object({ ... })`, `z.union([ ... ])`). */
export interface Group {
  readonly open: string;
  readonly items: readonly Code[];
  readonly close: string;
  /** Spaces inside the brackets when printed flat (`{ a }` rather than `[a]`). */
  readonly padded: boolean;
}

/** Lines of generated code stay within this width where a break can make them. */
export const lineWidthMax = 120;

export function group(open: string, items: readonly Code[], close: string, padded = false): Group {
  return { open, items, close, padded };
}

function isGroup(code: Code): code is Group {
  return typeof code === 'object' && !Array.isArray(code);
}

/** The expression on one line. */
export function flat(code: Code): string {
  if (typeof code === 'string') return code;
  if (isGroup(code)) {
    if (code.items.length === 0) return `${code.open}${code.close}`;
    const inner = code.items.map(flat).join(', ');
    return code.padded ? `${code.open} ${inner} ${code.close}` : `${code.open}${inner}${code.close}`;
  }
  return code.map(flat).join('');
}

/** The expression laid out for a line that starts at column `indent` after `prefix` characters. */
export function layout(code: Code, indent: number, prefix = 0): string {
  const oneLine = flat(code);
  if (indent + prefix + oneLine.length <= lineWidthMax) return oneLine;
  if (typeof code === 'string') return code;
  if (isGroup(code)) {
    if (code.items.length === 0) return oneLine;
    const inner = ' '.repeat(indent + 2);
    const items = code.items.map((item) => `${inner}${layout(item, indent + 2)},`);
    return `${code.open}\n${items.join('\n')}\n${' '.repeat(indent)}${code.close}`;
  }
  let written = '';
  for (const part of code) {
    const lastLine = written.slice(written.lastIndexOf('\n') + 1);
    written += layout(part, indent, written.includes('\n') ? lastLine.length - indent : prefix + lastLine.length);
  }
  return written;
}

/** A TypeScript string literal in single quotes. */
export function quote(text: string): string {
  return `'${JSON.stringify(text).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
}

/** A property key: bare when it is an identifier, quoted otherwise. */
export function propertyKey(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : quote(name);
}

/** `EchoApi` → `echoApi`. */
export function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}
