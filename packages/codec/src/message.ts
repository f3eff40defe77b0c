import type { AnyMessage, Fields, InferFields, MessageType } from './schema.js';
import { label } from './describe.js';
import { CodecError } from './errors.js';

const TYPE_NAME = /^[A-Za-z_][A-Za-z0-9_.:/-]{0,127}$/;

export interface MessageOptions {
  /**
   * Values of this type may hold shared references or cycles. They are encoded with
   * msgpackr's structured-clone mode, which preserves identity; other types are encoded as
   * trees (a shared object is written twice, a cycle is an encode error).
   */
  readonly graph?: boolean;
  /**
   * The priority a message of this type is sent with when the send does not give one
   * (`self.send(to, m, { priority })` wins). Default 'normal'. See docs/priorities.md.
   */
  readonly priority?: 'high' | 'normal' | 'low';
}

/**
 * Declared default priorities by type name, for the runtime's send path. Only types
 * declared with a priority other than 'normal' are here, so a program that never declares
 * one leaves it empty and the runtime skips the lookup. A declaration, like the type name
 * itself: the same name declared again with another priority takes the later one.
 */
const declaredPriorities = new Map<string, 'high' | 'low'>();

/** The default priority declared for messages of `type`, or undefined ('normal'). */
export function declaredPriority(type: string): 'high' | 'low' | undefined {
  return declaredPriorities.size === 0 ? undefined : declaredPriorities.get(type);
}

/** How many types declare a priority (0: the runtime need not look). */
export function declaredPriorityCount(): number {
  return declaredPriorities.size;
}

/**
 * Declares a message type with a stable name (chosen by you, never derived from a file path)
 * and a field schema. Returns a constructor that is also a type guard.
 *
 * ```ts
 * const Hello = defineMessage('Hello', { name: t.string() });
 * type Hello = MessageOf<typeof Hello>;
 * const m = Hello({ name: 'Gladys' }); // { type: 'Hello', name: 'Gladys' }
 * ```
 */
export function defineMessage<const N extends string, const F extends Fields>(
  type: N,
  fields: F,
  options: MessageOptions = {},
): MessageType<N, { readonly type: N } & InferFields<F>> {
  if (typeof type !== 'string' || !TYPE_NAME.test(type)) {
    throw new CodecError(
      'HERALD_ERR_BAD_TYPE_NAME',
      `message type name ${label(type)} is not allowed`,
    );
  }
  if ('type' in fields) {
    throw new CodecError(
      'HERALD_ERR_BAD_TYPE_NAME',
      `message ${type} declares a field called "type"`,
    );
  }
  const priority = options.priority;
  if (
    priority !== undefined &&
    priority !== 'high' &&
    priority !== 'normal' &&
    priority !== 'low'
  ) {
    throw new CodecError(
      'HERALD_ERR_BAD_OPTION',
      `message ${type}: priority must be 'high', 'normal' or 'low', got ${label(priority)}`,
    );
  }
  if (priority === 'high' || priority === 'low') declaredPriorities.set(type, priority);
  else if (priority === 'normal') declaredPriorities.delete(type);
  const construct = (values?: object): AnyMessage => ({ type, ...values });
  const def = Object.assign(construct, {
    fields,
    graph: options.graph === true,
    is: (value: unknown): boolean =>
      typeof value === 'object' && value !== null && (value as AnyMessage).type === type,
  });
  Object.defineProperty(def, 'type', { value: type, enumerable: true });
  Object.defineProperty(def, 'name', { value: type });
  return def as unknown as MessageType<N, { readonly type: N } & InferFields<F>>;
}
