import { basename } from 'node:path';
import ts from 'typescript';
import { RpcGenError, type RpcGenLocation } from '../errors.js';
import { membersMax, typeDepthMax } from '../limits.js';
import { type Code, group, lowerFirst, propertyKey, quote } from './code.js';

/** A zod schema for one type, as code. */
export interface Schema {
  readonly code: Code;
  /** The type admitted `undefined` (allowed only where the slot is optional: a parameter or member). */
  readonly includesUndefined: boolean;
  /** How deep values of the type nest (a primitive is 0). */
  readonly height: number;
}

/** A schema emitted once under a name, for an interface or type alias. */
export interface NamedSchema {
  readonly constName: string;
  readonly typeName: string;
  readonly declaredIn: string;
  readonly code: Code;
}

/** Where a node is, for error messages. */
export type Locate = (node: ts.Node, position?: number) => RpcGenLocation;

const literalFlags = ts.TypeFlags.StringLiteral | ts.TypeFlags.NumberLiteral | ts.TypeFlags.BooleanLiteral;

/**
 * Turns checker types into zod schema code. Interfaces and type aliases become named schemas, emitted
 * in dependency order (a schema is listed after those it refers to); a recursive type is refused,
 * because a schema constant cannot refer to itself before it exists.
 */
export class SchemaBuilder {
  /** Named schemas in dependency order. */
  readonly named: NamedSchema[] = [];
  private readonly nameOf = new Map<ts.Symbol, { constName: string; height: number }>();
  private readonly symbolOf = new Map<string, ts.Symbol>();
  private readonly visiting = new Set<ts.Symbol>();

  constructor(
    private readonly program: ts.Program,
    private readonly checker: ts.TypeChecker,
    private readonly locate: Locate,
  ) {}

  /** Refuses `type` at `site`, naming the type text. */
  unsupported(type: ts.Type, site: ts.Node, why: string): never {
    throw new RpcGenError(`unsupported type '${this.checker.typeToString(type)}': ${why}`, this.locate(site));
  }

  /** The schema of a value of `type`; `slot` says an `undefined` constituent is allowed (optional parameter or member). */
  schemaOf(type: ts.Type, site: ts.Node, slot: boolean): Schema {
    const named = this.namedSymbol(type, site);
    const schema = named === undefined ? this.structural(type, site, slot) : this.reference(named, type);
    if (schema.height > typeDepthMax)
      this.unsupported(type, site, `values nest deeper than typeDepthMax (${typeDepthMax})`);
    return schema;
  }

  private isLibrary(symbol: ts.Symbol): boolean {
    return (symbol.declarations ?? []).some((declaration) =>
      this.program.isSourceFileDefaultLibrary(declaration.getSourceFile()),
    );
  }

  private namedSymbol(type: ts.Type, site: ts.Node): ts.Symbol | undefined {
    if (type.flags & ts.TypeFlags.EnumLike) return undefined;
    const alias = type.aliasSymbol;
    if (alias !== undefined && !this.isLibrary(alias)) {
      if ((type.aliasTypeArguments ?? []).length > 0)
        this.unsupported(type, site, 'generic types are not supported (write the instantiation out as its own type)');
      return alias;
    }
    const symbol = type.getSymbol();
    if (symbol === undefined || !(type.flags & ts.TypeFlags.Object)) return undefined;
    const isInterface =
      ((type as ts.ObjectType).objectFlags & ts.ObjectFlags.Interface) !== 0 &&
      (symbol.flags & ts.SymbolFlags.Interface) !== 0;
    return isInterface && !this.isLibrary(symbol) && (symbol.flags & ts.SymbolFlags.Class) === 0 ? symbol : undefined;
  }

  private reference(symbol: ts.Symbol, type: ts.Type): Schema {
    const known = this.nameOf.get(symbol);
    const declaration = symbol.declarations?.[0];
    if (declaration === undefined) throw new RpcGenError(`type ${symbol.name} has no declaration`);
    if (known !== undefined) return { code: known.constName, includesUndefined: false, height: known.height };
    if (this.visiting.has(symbol))
      this.unsupported(
        type,
        ts.getNameOfDeclaration(declaration) ?? declaration,
        `recursive types are not supported (${symbol.name} refers to itself)`,
      );
    const constName = `${lowerFirst(symbol.name)}Schema`;
    const clash = this.symbolOf.get(constName);
    if (clash !== undefined && clash !== symbol)
      throw new RpcGenError(`two types are named ${symbol.name}; rename one`, this.locate(declaration));
    this.visiting.add(symbol);
    const schema = this.structural(type, declaration, false);
    this.visiting.delete(symbol);
    this.symbolOf.set(constName, symbol);
    this.nameOf.set(symbol, { constName, height: schema.height });
    this.named.push({
      constName,
      typeName: symbol.name,
      declaredIn: basename(declaration.getSourceFile().fileName),
      code: schema.code,
    });
    return { code: constName, includesUndefined: false, height: schema.height };
  }

  private structural(type: ts.Type, site: ts.Node, slot: boolean): Schema {
    const flags = type.flags;
    const leaf = (code: string): Schema => ({ code, includesUndefined: false, height: 0 });
    if (flags & ts.TypeFlags.Any) this.unsupported(type, site, 'any says nothing to validate; name the type');
    if (flags & ts.TypeFlags.Unknown) this.unsupported(type, site, 'unknown says nothing to validate; name the type');
    if (flags & ts.TypeFlags.Never) this.unsupported(type, site, 'never has no values');
    if (flags & ts.TypeFlags.Void) this.unsupported(type, site, 'void is only a method result (Promise<void>)');
    if (flags & ts.TypeFlags.Undefined)
      this.unsupported(type, site, 'undefined alone is not a value; make the parameter or member optional');
    if (flags & ts.TypeFlags.ESSymbolLike) this.unsupported(type, site, 'symbols cannot cross a message');
    if (flags & ts.TypeFlags.EnumLike)
      this.unsupported(type, site, 'enums are not supported; use a union of string literals');
    if (
      flags &
      (ts.TypeFlags.TypeParameter |
        ts.TypeFlags.Index |
        ts.TypeFlags.IndexedAccess |
        ts.TypeFlags.Conditional |
        ts.TypeFlags.Substitution)
    ) {
      this.unsupported(type, site, 'generic types are not supported');
    }
    if (flags & (ts.TypeFlags.TemplateLiteral | ts.TypeFlags.StringMapping))
      this.unsupported(type, site, 'template literal types are not supported');
    if (flags & ts.TypeFlags.BigIntLiteral) this.unsupported(type, site, 'bigint literal types are not supported');
    if (flags & ts.TypeFlags.String) return leaf('z.string()');
    if (flags & ts.TypeFlags.Number) return leaf('z.number()');
    if (flags & ts.TypeFlags.BigInt) return leaf('z.bigint()');
    if (flags & ts.TypeFlags.Boolean) return leaf('z.boolean()');
    if (flags & ts.TypeFlags.Null) return leaf('z.null()');
    if (flags & literalFlags) return leaf(`z.literal(${this.literalText(type)})`);
    if (type.isUnion()) return this.union(type, site, slot);
    if (flags & ts.TypeFlags.Intersection)
      this.unsupported(type, site, 'intersections are not supported; declare one interface (extends works)');
    if (flags & ts.TypeFlags.NonPrimitive)
      this.unsupported(type, site, 'object says nothing to validate; name the type');
    if (flags & ts.TypeFlags.Object) return this.object(type as ts.ObjectType, site);
    return this.unsupported(type, site, 'this kind of type is not supported');
  }

  private literalText(type: ts.Type): string {
    if (type.isStringLiteral()) return quote(type.value);
    if (type.isNumberLiteral()) return String(type.value);
    return this.checker.typeToString(type);
  }

  private union(type: ts.UnionType, site: ts.Node, slot: boolean): Schema {
    let nullable = false;
    let includesUndefined = false;
    const parts: ts.Type[] = [];
    for (const member of type.types) {
      if (member.flags & ts.TypeFlags.Null) nullable = true;
      else if (member.flags & ts.TypeFlags.Undefined) includesUndefined = true;
      else parts.push(member);
    }
    if (includesUndefined && !slot)
      this.unsupported(
        type,
        site,
        'undefined may appear only in an optional parameter or member (a message cannot carry it elsewhere)',
      );
    // `null | undefined` is plain z.null(), never z.null().nullable().
    if (parts.length === 0) return { code: 'z.null()', includesUndefined, height: 0 };
    const inner = this.unionOfParts(type, parts, site);
    return { code: nullable ? [inner.code, '.nullable()'] : inner.code, includesUndefined, height: inner.height };
  }

  /** The schema of a union's members other than null and undefined (`parts`, at least one). */
  private unionOfParts(type: ts.UnionType, parts: readonly ts.Type[], site: ts.Node): Schema {
    const booleans = parts.filter((part) => part.flags & ts.TypeFlags.BooleanLiteral);
    const others = parts.filter((part) => !(part.flags & ts.TypeFlags.BooleanLiteral));
    const wholeBoolean = booleans.length === 2;
    if (parts.every((part) => part.flags & literalFlags) && !wholeBoolean) {
      const literals = parts.map((part) => this.literalText(part));
      return {
        code: literals.length === 1 ? `z.literal(${literals[0]})` : ['z.literal(', group('[', literals, ']'), ')'],
        includesUndefined: false,
        height: 0,
      };
    }
    if (wholeBoolean && others.length === 0) return { code: 'z.boolean()', includesUndefined: false, height: 0 };
    const objects = others.filter((part) => part.flags & ts.TypeFlags.Object);
    const options = others.map((part) => this.schemaOf(part, site, false));
    if (wholeBoolean) options.push({ code: 'z.boolean()', includesUndefined: false, height: 0 });
    else options.push(...booleans.map((part) => this.schemaOf(part, site, false)));
    if (options.length === 1 && options[0] !== undefined) return options[0];
    return this.unionOfOptions(type, objects, options, site);
  }

  /**
   * Two or more member schemas as one: a discriminated union when the members are objects (zod picks
   * the member by its `type` instead of trying each), a plain union otherwise.
   */
  private unionOfOptions(
    type: ts.UnionType,
    objects: readonly ts.Type[],
    options: readonly Schema[],
    site: ts.Node,
  ): Schema {
    const height = Math.max(...options.map((option) => option.height));
    const codes = options.map((option) => option.code);
    if (objects.length === 0)
      return { code: ['z.union(', group('[', codes, ']'), ')'], includesUndefined: false, height };
    if (objects.length !== options.length)
      this.unsupported(type, site, 'a union may not mix object types with other types');
    this.checkDiscriminants(type, objects, site);
    return {
      code: ['z.discriminatedUnion(', quote('type'), ', ', group('[', codes, ']'), ')'],
      includesUndefined: false,
      height,
    };
  }

  private checkDiscriminants(type: ts.UnionType, objects: readonly ts.Type[], site: ts.Node): void {
    const seen = new Set<string>();
    for (const object of objects) {
      const discriminant = object.getProperty('type');
      const discriminantType = discriminant === undefined ? undefined : this.checker.getTypeOfSymbol(discriminant);
      const values =
        discriminantType === undefined ? [] : discriminantType.isUnion() ? discriminantType.types : [discriminantType];
      if (
        values.length === 0 ||
        values.some((value) => !(value.flags & literalFlags)) ||
        discriminant === undefined ||
        discriminant.flags & ts.SymbolFlags.Optional
      ) {
        this.unsupported(
          type,
          site,
          `a union of object types must be discriminated on a required literal 'type' member, and ${this.checker.typeToString(object)} has none`,
        );
      }
      for (const value of values) {
        const text = this.literalText(value);
        if (seen.has(text))
          this.unsupported(type, site, `two members of the union share the discriminant type: ${text}`);
        seen.add(text);
      }
    }
  }

  private object(type: ts.ObjectType, site: ts.Node): Schema {
    if (this.checker.isTupleType(type)) return this.tuple(type as ts.TypeReference, site);
    if (this.checker.isArrayType(type)) {
      const element = this.checker.getTypeArguments(type as ts.TypeReference)[0];
      if (element === undefined) return this.unsupported(type, site, 'an array without an element type');
      const schema = this.schemaOf(element, site, false);
      return { code: ['z.array(', schema.code, ')'], includesUndefined: false, height: schema.height + 1 };
    }
    const symbol = type.getSymbol();
    if (symbol !== undefined && this.isLibrary(symbol)) {
      if (symbol.name === 'Uint8Array')
        return { code: 'z.instanceof(Uint8Array)', includesUndefined: false, height: 0 };
      if (symbol.name === 'Date') return { code: 'z.date()', includesUndefined: false, height: 0 };
      if (symbol.name !== '__type' && symbol.name !== '__object')
        this.unsupported(
          type,
          site,
          `${symbol.name} is not supported (a message carries plain data, Uint8Array and Date)`,
        );
    }
    if (symbol !== undefined && symbol.flags & ts.SymbolFlags.Class)
      this.unsupported(type, site, 'class instances cannot cross a message; declare an interface');
    if (
      type.objectFlags & ts.ObjectFlags.Reference &&
      this.checker.getTypeArguments(type as ts.TypeReference).length > 0
    ) {
      this.unsupported(type, site, 'generic types are not supported (write the instantiation out as its own type)');
    }
    if (type.getCallSignatures().length > 0 || type.getConstructSignatures().length > 0)
      this.unsupported(type, site, 'functions cannot cross a message');
    const properties = this.checker.getPropertiesOfType(type);
    const indexes = this.checker.getIndexInfosOfType(type);
    if (indexes.length > 0) return this.record(type, indexes, properties, site);
    return this.objectOfProperties(type, properties, site);
  }

  /** An object type with index signatures: only `Record<string, T>` (a string index and no other members). */
  private record(
    type: ts.ObjectType,
    indexes: readonly ts.IndexInfo[],
    properties: readonly ts.Symbol[],
    site: ts.Node,
  ): Schema {
    const [index] = indexes;
    if (
      indexes.length > 1 ||
      index === undefined ||
      !(index.keyType.flags & ts.TypeFlags.String) ||
      properties.length > 0
    ) {
      this.unsupported(
        type,
        site,
        'the only index signature supported is a string index on a type with no other members (Record<string, T>)',
      );
    }
    const value = this.schemaOf(index.type, index.declaration ?? site, false);
    return { code: ['z.record(z.string(), ', value.code, ')'], includesUndefined: false, height: value.height + 1 };
  }

  /** An object type of data members only, as `z.object`. */
  private objectOfProperties(type: ts.ObjectType, properties: readonly ts.Symbol[], site: ts.Node): Schema {
    if (properties.length === 0) this.unsupported(type, site, 'an empty object type admits any value; give it members');
    if (properties.length > membersMax) this.unsupported(type, site, `more than membersMax (${membersMax}) members`);
    const members: Code[] = [];
    let height = 0;
    for (const property of properties) {
      const declaration = property.valueDeclaration ?? property.declarations?.[0] ?? site;
      if (
        !ts.isPropertySignature(declaration) &&
        !ts.isPropertyAssignment(declaration) &&
        !ts.isShorthandPropertyAssignment(declaration)
      ) {
        this.unsupported(
          type,
          declaration,
          `member ${property.name} is not a data property (a message carries no methods)`,
        );
      }
      if (property.name === '__proto__')
        this.unsupported(type, declaration, 'a member named __proto__ cannot be validated safely');
      const schema = this.schemaOf(
        this.checker.getTypeOfSymbol(property),
        ts.isPropertySignature(declaration) && declaration.type !== undefined ? declaration.type : declaration,
        true,
      );
      const optional = (property.flags & ts.SymbolFlags.Optional) !== 0 || schema.includesUndefined;
      height = Math.max(height, schema.height + 1);
      members.push([`${propertyKey(property.name)}: `, schema.code, optional ? '.optional()' : '']);
    }
    return { code: ['z.object(', group('{', members, '}', true), ')'], includesUndefined: false, height };
  }

  private tuple(type: ts.TypeReference, site: ts.Node): Schema {
    const target = type.target as ts.TupleType;
    const elements = this.checker.getTypeArguments(type).slice(0, target.elementFlags.length);
    const codes: Code[] = [];
    let height = 1;
    elements.forEach((element, position) => {
      const elementFlags = target.elementFlags[position] ?? ts.ElementFlags.Required;
      if (elementFlags & ts.ElementFlags.Variable)
        this.unsupported(type, site, 'rest elements in tuples are not supported');
      const optional = (elementFlags & ts.ElementFlags.Optional) !== 0;
      const schema = this.schemaOf(element, site, optional);
      height = Math.max(height, schema.height + 1);
      codes.push(optional ? [schema.code, '.optional()'] : schema.code);
    });
    if (codes.length === 0) this.unsupported(type, site, 'an empty tuple carries nothing');
    return { code: ['z.tuple(', group('[', codes, ']'), ')'], includesUndefined: false, height };
  }
}
