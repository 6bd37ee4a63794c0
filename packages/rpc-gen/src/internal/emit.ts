import { RpcGenError } from '../errors.js';
import type { ApiInterface, ApiMethod, ApiModel } from './analyze.js';
import { group, layout, lowerFirst, propertyKey, quote } from './code.js';

/** Names the code in method bodies uses; a parameter may not take one of them. */
const bodyNames = ['transport', 'impl', 'toWire'];

/** Re-indents a TSDoc comment as written to start at column `indent`. */
function reindent(doc: string, indent: number): string {
  const pad = ' '.repeat(indent);
  const lines = doc.split(/\r?\n/);
  return lines.map((line, index) => (index === 0 ? `${pad}${line.trim()}` : `${pad} ${line.trim()}`)).join('\n');
}

function checkNames(model: ApiModel): void {
  const moduleNames = new Set<string>(['z', 'defineRpcService', 'toWire', 'WireArguments']);
  const claim = (name: string): void => {
    if (moduleNames.has(name))
      throw new RpcGenError(`the generated module would declare ${name} twice; rename a type or interface`);
    moduleNames.add(name);
  };
  for (const schema of model.namedSchemas) claim(schema.constName);
  for (const api of model.interfaces) {
    const base = lowerFirst(api.name);
    for (const name of [
      api.name,
      `${base}Ordinals`,
      `${base}Errors`,
      `${base}Arguments`,
      `create${api.name}Client`,
      `serve${api.name}`,
      `create${api.name}Local`,
    ])
      claim(name);
  }
  for (const api of model.interfaces) {
    for (const method of api.methods) {
      for (const parameter of method.parameters) {
        if (bodyNames.includes(parameter.name) || moduleNames.has(parameter.name)) {
          throw new RpcGenError(
            `${api.name}.${method.name}: parameter name ${parameter.name} is taken by the generated code; rename it`,
          );
        }
      }
    }
  }
}

function methodDoc(method: ApiMethod, indent: number): string[] {
  return method.doc === undefined ? [] : [reindent(method.doc, indent)];
}

function tables(api: ApiInterface): string[] {
  const base = lowerFirst(api.name);
  const lines = [
    `/** Wire ordinals of the methods of {@link ${api.name}}: \`methodOrdinal('${api.name}', method)\`. */`,
    `export const ${base}Ordinals = {`,
    ...api.methods.map((method) => `  ${method.name}: ${method.ordinal},`),
    '} as const;',
    '',
    `/** The FosError codes each method of {@link ${api.name}} documents with \`@throws\`. */`,
    `export const ${base}Errors = {`,
    ...api.methods.map((method) => `  ${method.name}: [${method.throws.map(quote).join(', ')}],`),
    '} as const;',
    '',
    `/** The schema of each method's arguments object (keyed by parameter name; unknown members are stripped). */`,
    `export const ${base}Arguments = {`,
  ];
  for (const method of api.methods) {
    const members = method.parameters.map((parameter) => [`${propertyKey(parameter.name)}: `, parameter.schema]);
    lines.push(
      `  ${method.name}: ${layout(['z.object(', group('{', members, '}', true), ')'], 2, method.name.length + 2)},`,
    );
  }
  lines.push('};', '');
  return lines;
}

function client(api: ApiInterface): string[] {
  const base = lowerFirst(api.name);
  const lines = [
    `/** A client of {@link ${api.name}}: each call travels through \`transport\`; FosErrors of the server reject the call unchanged. */`,
    `export function create${api.name}Client(transport: RpcTransport): ${api.name} {`,
    '  return {',
  ];
  for (const method of api.methods) {
    const names = method.parameters.map((parameter) => parameter.name);
    const call = `transport.invoke(${base}Ordinals.${method.name}, ${quote(`${api.name}.${method.name}`)}, toWire({${names.length > 0 ? ` ${names.join(', ')} ` : ''}}))`;
    lines.push(...methodDoc(method, 4), `    async ${method.name}(${names.join(', ')}) {`);
    if (method.returnsVoid) lines.push(`      await ${call};`);
    else
      lines.push(`      return (await ${call}) as unknown as Awaited<ReturnType<${api.name}[${quote(method.name)}]>>;`);
    lines.push('    },');
  }
  lines.push('  };', '}', '');
  return lines;
}

function server(api: ApiInterface): string[] {
  const base = lowerFirst(api.name);
  const lines = [
    `/** Serves \`impl\` as {@link ${api.name}} (hand it to \`rpcHandler\`); \`dispatchRpc\` validates the arguments before \`impl\` sees them. */`,
    `export function serve${api.name}(impl: ${api.name}): RpcService<${api.name}> {`,
    `  return defineRpcService(${quote(api.name)}, impl, [`,
  ];
  for (const method of api.methods) {
    const parameterType = `Parameters<${api.name}[${quote(method.name)}]>`;
    const casts = method.parameters.map((parameter, index) => `args.${parameter.name} as ${parameterType}[${index}]`);
    lines.push(
      '    {',
      `      name: ${quote(method.name)},`,
      `      ordinal: ${base}Ordinals.${method.name},`,
      `      args: ${base}Arguments.${method.name},`,
      `      invoke: (${casts.length > 0 ? 'implementation, args' : 'implementation'}) => ${layout([`implementation.${method.name}`, group('(', casts, ')')], 6, 40)},`,
      '    },',
    );
  }
  lines.push('  ]);', '}', '');
  return lines;
}

function local(api: ApiInterface): string[] {
  const lines = [
    `/** The local linkage of {@link ${api.name}} (thesis §5.2): the same signatures, calling \`impl\` directly, no message. */`,
    `export function create${api.name}Local(impl: ${api.name}): ${api.name} {`,
    '  return {',
  ];
  for (const method of api.methods) {
    const names = method.parameters.map((parameter) => parameter.name).join(', ');
    lines.push(
      ...methodDoc(method, 4),
      `    ${method.name}(${names}) {`,
      `      return impl.${method.name}(${names});`,
      '    },',
    );
  }
  lines.push('  };', '}', '');
  return lines;
}

/** The text of `<basename>.rpc.ts` for `model`, read from `sourceLabel` and importing it as `importPath`. */
export function emitModule(model: ApiModel, sourceLabel: string, importPath: string): string {
  checkNames(model);
  const lines = [
    `// generated by fos-rpcgen from ${sourceLabel}; do not edit`,
    "import { defineRpcService, type RpcService, type RpcTransport } from '@fos/dispatcher';",
    "import { z } from 'zod';",
    `import type { ${model.interfaces.map((api) => api.name).join(', ')} } from ${quote(importPath)};`,
    '',
    '/** The arguments object as a transport carries it. */',
    "type WireArguments = Parameters<RpcTransport['invoke']>[2];",
    '',
    '// fos-rpcgen checked that every argument type is a message body; through interfaces the compiler cannot see it.',
    'function toWire(args: Record<string, unknown>): WireArguments {',
    '  return args as WireArguments;',
    '}',
    '',
  ];
  for (const schema of model.namedSchemas) {
    lines.push(
      `/** Schema of ${schema.typeName} (${schema.declaredIn}). */`,
      `export const ${schema.constName} = ${layout(schema.code, 0, schema.constName.length + 16)};`,
      '',
    );
  }
  for (const api of model.interfaces) lines.push(...tables(api), ...client(api), ...server(api), ...local(api));
  return `${lines.join('\n').trimEnd()}\n`;
}
