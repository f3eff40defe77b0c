/** Shared fixtures of the patterns tests: a test message and a receiving actor with an inbox. */
import { defineMessage, t, type AnyMessage } from '@herald/codec';
import { withOptions, type Envelope, type Handler, type Runtime, type Self } from '@herald/runtime';
import { Recorder } from '@herald/testing';
import { createInbox, type Inbox, type InboxOptions } from '../src/inbox.js';
import { Reliable } from '../src/messages.js';

export const Job = defineMessage('test.Job', { n: t.int() });
export type Job = ReturnType<typeof Job>;

export interface Receiver {
  readonly address: Self['address'];
  /** Every application message the inbox accepted (each once). */
  readonly accepted: Recorder<AnyMessage>;
  /** Every Reliable that arrived (transmissions, duplicates included). */
  readonly transmissions: Recorder<Reliable>;
  /** Plain (at-most-once) messages that arrived. */
  readonly plain: Recorder<AnyMessage>;
  readonly inbox: Inbox;
  /** The envelope priority (0 high, 1 normal, 2 low) of every message that arrived. */
  readonly priorities: number[];
}

export interface ReceiverOptions extends InboxOptions {
  /** Transmissions to ignore (not accepted, so not acknowledged): a lost message. */
  readonly drop?: (message: Reliable) => boolean;
  readonly capacity?: number;
}

/** A handler actor that accepts Reliable messages through an inbox and records everything. */
export function spawnReceiver(runtime: Runtime, options: ReceiverOptions = {}): Promise<Receiver> {
  const accepted = new Recorder<AnyMessage>('accepted', (m) => JSON.stringify(m));
  const transmissions = new Recorder<Reliable>(
    'transmissions',
    (m) => `${m.sender}:${m.seq}#${m.attempt}`,
  );
  const plain = new Recorder<AnyMessage>('plain', (m) => JSON.stringify(m));
  const priorities: number[] = [];
  return new Promise((resolve) => {
    let inbox: Inbox;
    const handler: Handler = {
      name: 'receiver',
      start(self) {
        inbox = createInbox(self, options);
        resolve({ address: self.address, accepted, transmissions, plain, inbox, priorities });
      },
      receive(self: Self, message: AnyMessage, envelope: Envelope) {
        priorities.push(envelope.priority);
        if (!Reliable.is(message)) {
          plain.record(message);
          return;
        }
        transmissions.record(message);
        if (options.drop?.(message) === true) return;
        const result = inbox.accept(self, message, envelope);
        if (result !== undefined) accepted.record(result.message);
      },
      onStop(self) {
        inbox.close();
        self.complete();
      },
    };
    runtime.spawn(
      withOptions(handler, options.capacity === undefined ? {} : { capacity: options.capacity }),
    );
  });
}
