import type { Address } from '@herald/codec';
import type { DeadLetter } from './envelope.js';

/**
 * Inspection events: a stream of actor lifecycle and message events for tools
 * (`runtime.inspect(listener)`). Emitted only while someone listens, so they cost nothing
 * otherwise. `received` and `sent` are emitted when the runtime's log level is debug or
 * an inspector is attached.
 */
export type InspectionEvent =
  | {
      readonly kind: 'created';
      readonly actor: Address;
      readonly name: string;
      readonly parent: Address | undefined;
    }
  | {
      readonly kind: 'received';
      readonly actor: Address;
      readonly name: string;
      readonly from: Address;
      readonly messageType: string;
    }
  | {
      readonly kind: 'sent';
      readonly actor: Address;
      readonly to: Address;
      readonly messageType: string;
    }
  | {
      readonly kind: 'destroyed';
      readonly actor: Address;
      readonly name: string;
      readonly value: unknown;
    }
  | { readonly kind: 'dead-letter'; readonly deadLetter: DeadLetter }
  | XstateInspection;

/**
 * A machine actor's xstate inspection event (xstate's `inspect` option), forwarded as a
 * JSON-safe copy: `@xstate.actor` when an xstate actor (the machine, or one it spawned)
 * starts, `@xstate.event` for each event it is sent, `@xstate.snapshot` for each new
 * snapshot. `sessionId` names the xstate actor, `rootId` the machine's own session, as in
 * xstate and the Stately inspector.
 */
export interface XstateInspection {
  readonly kind: 'xstate';
  /** The Herald actor the machine runs as. */
  readonly actor: Address;
  readonly event: XstateInspectionEvent;
}

export type XstateInspectionEvent =
  | {
      readonly type: '@xstate.actor';
      readonly rootId: string;
      readonly sessionId: string;
      /** The xstate actor's id (for the machine itself, the Herald actor's name). */
      readonly id: string;
    }
  | {
      readonly type: '@xstate.event';
      readonly rootId: string;
      /** The actor the event was sent to. */
      readonly sessionId: string;
      /** The actor that sent it, when it was an xstate actor. */
      readonly sourceId?: string;
      readonly event: { readonly type: string; readonly [field: string]: unknown };
    }
  | {
      readonly type: '@xstate.snapshot';
      readonly rootId: string;
      readonly sessionId: string;
      /** The event that led to the snapshot. */
      readonly event: { readonly type: string; readonly [field: string]: unknown };
      readonly snapshot: {
        readonly status: string;
        /** The state value (machines). */
        readonly value?: unknown;
        readonly context?: unknown;
        readonly output?: unknown;
        readonly error?: unknown;
      };
    };

export type InspectionListener = (event: InspectionEvent) => void;
