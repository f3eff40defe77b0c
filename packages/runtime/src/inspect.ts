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
  | { readonly kind: 'dead-letter'; readonly deadLetter: DeadLetter };

export type InspectionListener = (event: InspectionEvent) => void;
