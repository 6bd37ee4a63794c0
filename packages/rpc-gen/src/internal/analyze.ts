import { methodOrdinal } from '@fos/dispatcher';
import { isFosErrorCode } from '@fos/base';
import ts from 'typescript';
import { RpcGenError } from '../errors.js';
import { interfacesMax, methodsMax, parametersMax } from '../limits.js';
import type { Code } from './code.js';
import { type Locate, type NamedSchema, SchemaBuilder } from './schema.js';

/** One parameter of an API method. */
export interface ApiParameter {
  readonly name: string;
  readonly optional: boolean;
  readonly schema: Code;
}

/** One method of an API interface. */
export interface ApiMethod {
  readonly name: string;
  readonly ordinal: number;
  /** The method's TSDoc comment as written, or undefined. */
  readonly doc: string | undefined;
  /** The codes of its `@throws` tags, in order, without repeats. */
  readonly throws: readonly string[];
  readonly parameters: readonly ApiParameter[];
  readonly returnsVoid: boolean;
}

/** An exported interface whose members are all methods returning Promises. */
export interface ApiInterface {
  readonly name: string;
  readonly methods: readonly ApiMethod[];
}

/** What one input file declares, ready to emit. */
export interface ApiModel {
  readonly interfaces: readonly ApiInterface[];
  readonly namedSchemas: readonly NamedSchema[];
}

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Reads the API interfaces of `sourceFile`; every refusal is an {@link RpcGenError} at its place. */
export function analyzeFile(program: ts.Program, sourceFile: ts.SourceFile, locate: Locate): ApiModel {
  const firstDiagnostic = [
    ...program.getSyntacticDiagnostics(sourceFile),
    ...program.getSemanticDiagnostics(sourceFile),
  ][0];
  if (firstDiagnostic !== undefined) {
    const where =
      firstDiagnostic.file !== undefined && firstDiagnostic.start !== undefined
        ? locate(firstDiagnostic.file, firstDiagnostic.start)
        : undefined;
    throw new RpcGenError(
      `the input does not compile: ${ts.flattenDiagnosticMessageText(firstDiagnostic.messageText, ' ')}`,
      where,
    );
  }
  const checker = program.getTypeChecker();
  const schemas = new SchemaBuilder(program, checker, locate);
  const moduleSymbol = checker.getSymbolAtLocation(sourceFile);
  const exported = moduleSymbol === undefined ? [] : checker.getExportsOfModule(moduleSymbol);
  const interfaces: ApiInterface[] = [];
  for (const exportSymbol of exported) {
    const symbol = exportSymbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exportSymbol) : exportSymbol;
    const declarations = (symbol.declarations ?? []).filter(ts.isInterfaceDeclaration);
    const [first] = declarations;
    if (first === undefined || !isApiInterface(checker, checker.getDeclaredTypeOfSymbol(symbol))) continue;
    if (exportSymbol.name !== symbol.name)
      throw new RpcGenError(
        `API interface ${symbol.name} is exported as ${exportSymbol.name}; export it under its own name`,
        locate(first.name),
      );
    if (interfaces.length === interfacesMax)
      throw new RpcGenError(`more than interfacesMax (${interfacesMax}) API interfaces`, locate(first.name));
    interfaces.push(analyzeInterface(checker, schemas, symbol, first, locate));
  }
  if (interfaces.length === 0)
    throw new RpcGenError(
      'declares no exported API interface (an interface of methods returning Promises)',
      locate(sourceFile),
    );
  return { interfaces, namedSchemas: schemas.named };
}

/** An interface is an API when it has at least one method; data interfaces have only properties. */
function isApiInterface(checker: ts.TypeChecker, type: ts.Type): boolean {
  return checker.getPropertiesOfType(type).some((property) => (property.declarations ?? []).some(ts.isMethodSignature));
}

function analyzeInterface(
  checker: ts.TypeChecker,
  schemas: SchemaBuilder,
  symbol: ts.Symbol,
  declaration: ts.InterfaceDeclaration,
  locate: Locate,
): ApiInterface {
  const name = symbol.name;
  const type = checker.getDeclaredTypeOfSymbol(symbol);
  if ((declaration.typeParameters ?? []).length > 0)
    schemas.unsupported(type, declaration.name, 'generic API interfaces are not supported');
  const properties = checker.getPropertiesOfType(type);
  if (properties.length > methodsMax)
    throw new RpcGenError(`${name} has more than methodsMax (${methodsMax}) methods`, locate(declaration.name));
  const methods: ApiMethod[] = [];
  const byOrdinal = new Map<number, string>();
  for (const property of properties) {
    const [member, ...overloads] = property.declarations ?? [];
    if (member === undefined || !ts.isMethodSignature(member)) {
      const site = member ?? declaration.name;
      return schemas.unsupported(
        checker.getTypeOfSymbol(property),
        site,
        `${name}.${property.name} is a property; an API interface has only methods`,
      );
    }
    if (overloads.length > 0)
      throw new RpcGenError(
        `${name}.${property.name} is overloaded; give each signature its own name`,
        locate(member.name),
      );
    if (member.questionToken !== undefined)
      throw new RpcGenError(
        `${name}.${property.name} is optional; every method of an API is served`,
        locate(member.name),
      );
    if (!identifier.test(property.name) || property.name === '__proto__')
      throw new RpcGenError(`${name}: method name ${property.name} is not a plain identifier`, locate(member.name));
    const method = analyzeMethod(checker, schemas, name, member, locate);
    const clash = byOrdinal.get(method.ordinal);
    if (clash !== undefined)
      throw new RpcGenError(
        `${name}.${method.name} and ${name}.${clash} share ordinal ${method.ordinal}; rename one`,
        locate(member.name),
      );
    byOrdinal.set(method.ordinal, method.name);
    methods.push(method);
  }
  return { name, methods };
}

function analyzeMethod(
  checker: ts.TypeChecker,
  schemas: SchemaBuilder,
  interfaceName: string,
  member: ts.MethodSignature,
  locate: Locate,
): ApiMethod {
  const name = member.name.getText();
  const signature = checker.getSignatureFromDeclaration(member);
  if (signature === undefined) throw new RpcGenError(`${interfaceName}.${name} has no signature`, locate(member));
  if ((member.typeParameters ?? []).length > 0)
    throw new RpcGenError(
      `${interfaceName}.${name} is generic; generic methods are not supported`,
      locate(member.name),
    );
  if (member.parameters.length > parametersMax)
    throw new RpcGenError(
      `${interfaceName}.${name} takes more than parametersMax (${parametersMax}) parameters`,
      locate(member.name),
    );
  const parameters = member.parameters.map((parameter): ApiParameter => {
    if (!ts.isIdentifier(parameter.name))
      throw new RpcGenError(
        `${interfaceName}.${name}: a destructured parameter has no name to carry it under; name it`,
        locate(parameter),
      );
    const parameterName = parameter.name.text;
    if (parameterName === 'this')
      throw new RpcGenError(`${interfaceName}.${name}: a this parameter is not supported`, locate(parameter));
    if (parameter.dotDotDotToken !== undefined)
      throw new RpcGenError(
        `${interfaceName}.${name}: rest parameter ${parameterName} is not supported; take an array`,
        locate(parameter),
      );
    const type = checker.getTypeAtLocation(parameter);
    const schema = schemas.schemaOf(type, parameter.type ?? parameter, true);
    const optional = checker.isOptionalParameter(parameter) || schema.includesUndefined;
    return { name: parameterName, optional, schema: optional ? [schema.code, '.optional()'] : schema.code };
  });
  const returnType = signature.getReturnType();
  const returnSite = member.type ?? member.name;
  const promised =
    returnType.getSymbol()?.name === 'Promise'
      ? checker.getTypeArguments(returnType as ts.TypeReference)[0]
      : undefined;
  if (promised === undefined)
    return schemas.unsupported(
      returnType,
      returnSite,
      `${interfaceName}.${name} must return Promise<T> (a call crosses a message)`,
    );
  const returnsVoid = (promised.flags & ts.TypeFlags.Void) !== 0;
  if (!returnsVoid) schemas.schemaOf(promised, returnSite, false);
  const doc = docComment(member);
  return {
    name,
    ordinal: methodOrdinal(interfaceName, name),
    doc,
    throws: throwsCodes(doc, interfaceName, name, member, locate),
    parameters,
    returnsVoid,
  };
}

/** The last TSDoc comment (`/** ... *\/`) before `node`, as written. */
function docComment(node: ts.Node): string | undefined {
  const text = node.getSourceFile().text;
  const ranges = ts.getLeadingCommentRanges(text, node.getFullStart()) ?? [];
  const docs = ranges.filter(
    (range) =>
      range.kind === ts.SyntaxKind.MultiLineCommentTrivia &&
      text.startsWith('/**', range.pos) &&
      !text.startsWith('/**/', range.pos),
  );
  const last = docs[docs.length - 1];
  return last === undefined ? undefined : text.slice(last.pos, last.end);
}

function throwsCodes(
  doc: string | undefined,
  interfaceName: string,
  methodName: string,
  member: ts.Node,
  locate: Locate,
): string[] {
  const codes: string[] = [];
  for (const match of (doc ?? '').matchAll(/@throws(?:[ \t]+([^\s*]+))?/g)) {
    const code = (match[1] ?? '').replace(/^\{/, '').replace(/\}$/, '');
    if (!isFosErrorCode(code))
      throw new RpcGenError(
        `${interfaceName}.${methodName}: @throws ${code === '' ? 'without a code' : `${code} is not a FosError code`} (one of fosErrorCodes)`,
        locate(member),
      );
    if (!codes.includes(code)) codes.push(code);
  }
  return codes;
}
