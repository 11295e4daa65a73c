/**
 * The field-type DSL. A message is described once, as data; the encoder, the
 * decoder and the TypeScript type are all derived from that description, so
 * the wire format and the type cannot drift apart.
 */

export interface VarUintType { readonly kind: 'varuint' }
export interface BoolType { readonly kind: 'bool' }
export interface StringType { readonly kind: 'string' }
/** Reducer arguments as superjson text, sent packed in binary (reducer-args.ts). */
export interface ArgsType { readonly kind: 'args' }
export interface BytesType { readonly kind: 'bytes' }

export interface StructType<F extends FieldMap = FieldMap> {
  readonly kind: 'struct';
  readonly fields: F;
  // Flattened once here so the codec's hot loops never call Object.keys.
  readonly names: readonly string[];
  readonly types: readonly FieldType[];
  /** The fewest bytes one encoded value can take; bounds array counts before allocating. */
  readonly minSize: number;
}

export interface ArrayType<F extends FieldMap = FieldMap> {
  readonly kind: 'array';
  readonly element: StructType<F>;
}

export type FieldType = VarUintType | BoolType | StringType | ArgsType | BytesType | ArrayType | StructType;

/** Fields in wire order: object key order, which is insertion order for identifier keys. */
export type FieldMap = { readonly [name: string]: FieldType };

export type Direction = 'client' | 'server';

export interface MessageSchema<
  N extends string = string,
  F extends FieldMap = FieldMap,
  D extends Direction = Direction,
> extends StructType<F> {
  readonly tag: number;
  readonly version: number;
  readonly name: N;
  /** Which side sends it. */
  readonly from: D;
}

export type Infer<T extends FieldType> = T extends VarUintType
  ? number
  : T extends BoolType
    ? boolean
    : T extends StringType | ArgsType
      ? string
      : T extends BytesType
        ? Uint8Array
        : T extends ArrayType<infer F>
          ? InferFields<F>[]
          : T extends StructType<infer F>
            ? InferFields<F>
            : never;

export type InferFields<F extends FieldMap> = { -readonly [K in keyof F]: Infer<F[K]> };

/** The decoded/encodable shape of a message: its fields plus `type`, the discriminant. */
export type MessageOf<S> =
  S extends MessageSchema<infer N, infer F> ? { type: N } & InferFields<F> extends infer M ? { [K in keyof M]: M[K] } : never : never;

// Identifier-shaped names keep object key order well defined (integer-like keys
// would be reordered by the engine) and keep `type`/`__proto__` out.
const FIELD_NAME = /^[a-z][A-Za-z0-9]*$/;

function struct<const F extends FieldMap>(fields: F): StructType<F> {
  const names = Object.keys(fields);
  const types = names.map((name) => {
    if (!FIELD_NAME.test(name) || name === 'type') throw new Error(`invalid field name '${name}'`);
    return fields[name]!;
  });
  return { kind: 'struct', fields, names, types, minSize: types.reduce((n, t) => n + minSize(t), 0) };
}

function array<const F extends FieldMap>(element: StructType<F>): ArrayType<F> {
  // A zero-size element would let a tiny frame claim a huge count.
  if (element.minSize === 0) throw new Error('array elements must have at least one field');
  return { kind: 'array', element };
}

function minSize(type: FieldType): number {
  return type.kind === 'struct' ? type.minSize : 1;
}

export const t = {
  varuint: { kind: 'varuint' } as VarUintType,
  bool: { kind: 'bool' } as BoolType,
  string: { kind: 'string' } as StringType,
  args: { kind: 'args' } as ArgsType,
  bytes: { kind: 'bytes' } as BytesType,
  struct,
  array,
} as const;

export function message<const N extends string, const D extends Direction, const F extends FieldMap>(def: {
  tag: number;
  version: number;
  name: N;
  from: D;
  fields: F;
}): MessageSchema<N, F, D> {
  const { tag, version, name, from, fields } = def;
  if (!Number.isInteger(tag) || tag < 0 || tag > 255) throw new Error(`${name}: tag must be a byte`);
  if (!Number.isInteger(version) || version < 1 || version > 255) throw new Error(`${name}: version must be 1..255`);
  return { ...struct(fields), tag, version, name, from };
}
