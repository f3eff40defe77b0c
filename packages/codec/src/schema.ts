/**
 * Schema nodes: the small type language in which messages declare their fields.
 *
 * A schema is plain data (a tagged union on `kind`), so the codec can compile it into a
 * validator once per message type, and `Infer<S>` gives the TypeScript type of a value
 * that satisfies it.
 */
import type { Address } from './address.js';

export type Schema =
  | { readonly kind: 'string'; readonly maxLength?: number }
  | { readonly kind: 'number' }
  | { readonly kind: 'int' }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'bigint' }
  | { readonly kind: 'date' }
  | { readonly kind: 'bytes'; readonly maxLength?: number }
  | { readonly kind: 'null' }
  | { readonly kind: 'json' }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'literal'; readonly value: string | number | boolean | null }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'array'; readonly element: Schema; readonly maxLength?: number }
  | { readonly kind: 'set'; readonly element: Schema }
  | { readonly kind: 'map'; readonly key: Schema; readonly value: Schema }
  | { readonly kind: 'record'; readonly value: Schema }
  | { readonly kind: 'object'; readonly fields: Fields }
  | { readonly kind: 'optional'; readonly inner: Schema }
  | { readonly kind: 'nullable'; readonly inner: Schema }
  | { readonly kind: 'union'; readonly options: readonly Schema[] }
  | { readonly kind: 'message'; readonly def: () => AnyMessageType }
  | { readonly kind: 'anyMessage' }
  | { readonly kind: 'address' }
  | { readonly kind: 'lazy'; readonly get: () => Schema };

export type Fields = { readonly [name: string]: Schema };

/** A JSON value: what `t.json()` accepts. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A message as the runtime and codec see it: a plain object with a string `type`. */
export interface AnyMessage {
  readonly type: string;
}

/** The TypeScript type of a value that satisfies schema `S`. */
export type Infer<S> = S extends { kind: 'string' }
  ? string
  : S extends { kind: 'number' } | { kind: 'int' }
    ? number
    : S extends { kind: 'boolean' }
      ? boolean
      : S extends { kind: 'bigint' }
        ? bigint
        : S extends { kind: 'date' }
          ? Date
          : S extends { kind: 'bytes' }
            ? Uint8Array
            : S extends { kind: 'null' }
              ? null
              : S extends { kind: 'json' }
                ? Json
                : S extends { kind: 'unknown' }
                  ? unknown
                  : S extends { kind: 'literal'; value: infer V }
                    ? V
                    : S extends { kind: 'enum'; values: readonly (infer V)[] }
                      ? V
                      : S extends { kind: 'array'; element: infer E }
                        ? Infer<E>[]
                        : S extends { kind: 'set'; element: infer E }
                          ? Set<Infer<E>>
                          : S extends { kind: 'map'; key: infer K; value: infer V }
                            ? Map<Infer<K>, Infer<V>>
                            : S extends { kind: 'record'; value: infer V }
                              ? { [key: string]: Infer<V> }
                              : S extends { kind: 'object'; fields: infer F extends Fields }
                                ? InferFields<F>
                                : S extends { kind: 'optional'; inner: infer I }
                                  ? Infer<I> | undefined
                                  : S extends { kind: 'nullable'; inner: infer I }
                                    ? Infer<I> | null
                                    : S extends { kind: 'union'; options: readonly (infer O)[] }
                                      ? Infer<O>
                                      : S extends { kind: 'message'; def: () => infer D }
                                        ? D extends MessageType<infer _N, infer M>
                                          ? M
                                          : never
                                        : S extends { kind: 'anyMessage' }
                                          ? AnyMessage
                                          : S extends { kind: 'address' }
                                            ? Address
                                            : S extends { kind: 'lazy'; get: () => infer L }
                                              ? Infer<L>
                                              : never;

type OptionalKeys<F extends Fields> = {
  [K in keyof F]: F[K] extends { kind: 'optional' } ? K : never;
}[keyof F];
type RequiredKeys<F extends Fields> = Exclude<keyof F, OptionalKeys<F>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** Object type for a field table: optional schemas become optional properties. */
export type InferFields<F extends Fields> = Simplify<
  { -readonly [K in RequiredKeys<F>]: Infer<F[K]> } & {
    -readonly [K in OptionalKeys<F>]?: F[K] extends { kind: 'optional'; inner: infer I }
      ? Infer<I>
      : never;
  }
>;

/** A declared message type: a constructor, a guard, and the schema behind both. */
export interface MessageType<N extends string = string, M extends AnyMessage = AnyMessage> {
  /** Builds a message value. Fields are not validated here (the decoder validates). */
  (
    ...args: keyof Omit<M, 'type'> extends never
      ? [fields?: Record<string, never>]
      : [fields: Omit<M, 'type'>]
  ): M;
  /** The stable name chosen by the user; it is the `type` discriminant and the wire name. */
  readonly type: N;
  readonly fields: Fields;
  /** True when values of this type may contain shared references or cycles. */
  readonly graph: boolean;
  /** Type guard: `v` is an object whose `type` is this message's name. */
  is(value: unknown): value is M;
}

export type AnyMessageType = MessageType<string, any>;

/** The message value type produced by a MessageType. */
export type MessageOf<D> = D extends MessageType<string, infer M> ? M : never;

/** Schema constructors. */
export const t = {
  string: (options: { maxLength?: number } = {}) => ({ kind: 'string', ...options }) as const,
  number: () => ({ kind: 'number' }) as const,
  int: () => ({ kind: 'int' }) as const,
  boolean: () => ({ kind: 'boolean' }) as const,
  bigint: () => ({ kind: 'bigint' }) as const,
  date: () => ({ kind: 'date' }) as const,
  bytes: (options: { maxLength?: number } = {}) => ({ kind: 'bytes', ...options }) as const,
  null: () => ({ kind: 'null' }) as const,
  json: () => ({ kind: 'json' }) as const,
  unknown: () => ({ kind: 'unknown' }) as const,
  literal: <const V extends string | number | boolean | null>(value: V) =>
    ({ kind: 'literal', value }) as const,
  enum: <const V extends readonly string[]>(...values: V) => ({ kind: 'enum', values }) as const,
  array: <E extends Schema>(element: E, options: { maxLength?: number } = {}) =>
    ({ kind: 'array', element, ...options }) as const,
  set: <E extends Schema>(element: E) => ({ kind: 'set', element }) as const,
  map: <K extends Schema, V extends Schema>(key: K, value: V) =>
    ({ kind: 'map', key, value }) as const,
  record: <V extends Schema>(value: V) => ({ kind: 'record', value }) as const,
  object: <F extends Fields>(fields: F) => ({ kind: 'object', fields }) as const,
  optional: <I extends Schema>(inner: I) => ({ kind: 'optional', inner }) as const,
  nullable: <I extends Schema>(inner: I) => ({ kind: 'nullable', inner }) as const,
  union: <const O extends readonly Schema[]>(...options: O) =>
    ({ kind: 'union', options }) as const,
  /** A nested message of one declared type. Pass a thunk to refer to a type declared later. */
  message: <D extends AnyMessageType>(def: D | (() => D)) =>
    ({
      kind: 'message',
      def: (typeof def === 'function' && 'type' in def ? () => def : def) as () => D,
    }) as const,
  /** Any message in the catalogue, decoded by its own type name. */
  anyMessage: () => ({ kind: 'anyMessage' }) as const,
  /** An actor address; translated hop by hop when it crosses a connection. */
  address: () => ({ kind: 'address' }) as const,
  /** A recursive schema. */
  lazy: <S extends Schema>(get: () => S) => ({ kind: 'lazy', get }) as const,
};
