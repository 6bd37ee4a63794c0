// The TypeScript examples of a README, as the checker reads them.

/** One fenced TypeScript block of a README. */
export interface ReadmeExample {
  /** Its place among the README's TypeScript blocks, from 0. */
  readonly index: number;
  /** The README line of its first line of code, from 1. */
  readonly line: number;
  /**
   * The file it is checked as: the name its first line gives (`// echo-api.ts`), so that the README's
   * other blocks can import it, or `example-<index>.ts`.
   */
  readonly file: string;
  readonly code: string;
  /** Marked `<!-- example: run -->` on the line before its fence: the checker runs it too. */
  readonly run: boolean;
  /**
   * What a run must print, line by line: the text after `// → ` of every such comment, in order (none:
   * the output is not checked). `console.log(x); // → 42` reads as "prints 42".
   */
  readonly output: readonly string[];
}

/** The marker that asks the checker to run the block that follows it, not just type-check it. */
export const runMarker = '<!-- example: run -->';

const fence = /^```(ts|typescript)\s*$/;
const namedFile = /^\/\/ ([A-Za-z0-9_.-]+\.ts)\s*$/;
const outputComment = /\/\/ → (.*)$/gm;

/**
 * Every fenced `ts` (or `typescript`) block of `markdown`, in order.
 * @throws Error for a block whose fence is never closed, or two blocks that name the same file
 */
export function extractExamples(markdown: string): ReadmeExample[] {
  const lines = markdown.split('\n');
  const examples: ReadmeExample[] = [];
  const files = new Set<string>();
  for (let at = 0; at < lines.length; at++) {
    if (!fence.test(lines[at] ?? '')) continue;
    const start = at + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end] ?? '')) end++;
    if (end >= lines.length) throw new Error(`the ts block at line ${at + 1} is never closed`);
    let before = at - 1;
    while (before >= 0 && (lines[before] ?? '').trim() === '') before--;
    const code = lines.slice(start, end).join('\n') + '\n';
    const index = examples.length;
    const file = namedFile.exec(lines[start] ?? '')?.[1] ?? `example-${index}.ts`;
    if (files.has(file)) throw new Error(`two ts blocks are checked as ${file} (the second at line ${start + 1})`);
    files.add(file);
    const output = [...code.matchAll(outputComment)].map((match) => match[1]!.trimEnd());
    examples.push({ index, line: start + 1, file, code, run: (lines[before] ?? '').trim() === runMarker, output });
    at = end;
  }
  return examples;
}

/** The interface files a set of examples imports as generated stubs (`./generated/<name>.rpc.js` → `<name>.ts`). */
export function generatedStubSources(examples: readonly ReadmeExample[]): string[] {
  const sources = new Set<string>();
  for (const example of examples)
    for (const match of example.code.matchAll(/from '\.\/generated\/([A-Za-z0-9_-]+)\.rpc\.js'/g))
      sources.add(`${match[1]}.ts`);
  return [...sources].sort();
}
