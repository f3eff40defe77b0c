/**
 * The receiving end of at-least-once delivery: a de-duplication window per sender, so the
 * application sees each message once however often it is retransmitted, and an
 * acknowledgement for every message received (new or duplicate).
 *
 * The window: the sender numbers its messages and puts its `floor` (lowest sequence
 * number still unacknowledged) in each one. Below the floor nothing will ever be sent
 * again, so the receiver keeps only the sequence numbers it has seen at or above the floor.
 * The sender never lets a sequence number run more than `window` past its floor, so that
 * set is bounded; a message beyond the window (a misconfigured sender) is neither
 * delivered nor acknowledged and comes back later. A stale retransmission below the
 * floor is acknowledged but not delivered: the sender has already counted it as
 * acknowledged or given up.
 *
 * Acknowledge after accepting: the ack goes out only when the application's actor has
 * the message in hand (it called `accept`), never when it merely reached a queue, so a
 * full mailbox or a crash before this point means no ack and a retransmission, never a
 * loss (aiomsg dropped on a full receive queue).
 */
import type { Address, AnyMessage } from '@herald/codec';
import type { Envelope, Self } from '@herald/runtime';
import { DEFAULT_DEDUP_WINDOW, DEFAULT_MAX_SENDERS } from './constants.js';
import { storeInternals, type DurableStore, type InboxPartition } from './durable-store.js';
import { BadPatternOptionError } from './errors.js';
import { Ack, allPatternMessages, Reliable } from './messages.js';
import { checkCount } from './options.js';

export interface InboxOptions {
  /** Sequence numbers tracked per sender above its floor. Default `DEFAULT_DEDUP_WINDOW`. */
  readonly window?: number;
  /** Senders remembered; the least recently heard is forgotten first. Default `DEFAULT_MAX_SENDERS`. */
  readonly maxSenders?: number;
  /** Keep the windows in this store, so duplicates are recognised after a restart too. */
  readonly store?: DurableStore;
  /** The inbox's name within the store (several inboxes can share one). Default `'inbox'`. */
  readonly name?: string;
}

/** A message accepted for the first time. */
export interface AcceptedMessage {
  /** The application message. */
  readonly message: AnyMessage;
  /** `<sender>:<seq>`: the same id the sender's Delivered / NotDelivered carry. */
  readonly id: string;
  /** The actor that asked for the send, when known (reply here). */
  readonly origin: Address | undefined;
}

interface SenderWindow {
  floor: number;
  readonly seen: Set<number>;
  heard: number;
}

export interface Inbox {
  /**
   * Takes a `Reliable` this actor received: acknowledges it to its sender and returns the
   * application message the first time, `undefined` for a duplicate (acknowledged again)
   * or a message outside the window (not acknowledged). Pass the envelope from a handler
   * actor; a function actor may omit it right after `receive`.
   */
  accept(self: Self, message: Reliable, envelope?: Envelope): AcceptedMessage | undefined;
  /** Duplicates recognised so far (for tests and metrics). */
  readonly duplicates: number;
  /** Senders currently tracked. */
  readonly senders: number;
  /** Releases the inbox's claim on its store partition. */
  close(): void;
}

export function createInbox(
  runtimeOf: Self | { runtime: Self['runtime'] },
  options: InboxOptions = {},
): Inbox {
  const window = checkCount('window', options.window ?? DEFAULT_DEDUP_WINDOW, 1);
  const maxSenders = checkCount('maxSenders', options.maxSenders ?? DEFAULT_MAX_SENDERS, 1);
  const runtime = runtimeOf.runtime;
  runtime.catalogue.add(...allPatternMessages);
  const name = options.name ?? 'inbox';
  if (name.length === 0) throw new BadPatternOptionError('name', 'an inbox name cannot be empty');

  let partition: InboxPartition | undefined;
  let claim: string | undefined;
  const windows = new Map<string, SenderWindow>();
  if (options.store !== undefined) {
    const store = storeInternals(options.store);
    claim = store.claim('inbox', name);
    partition = store.inbox(name);
    for (const [sender, record] of partition.load()) {
      windows.set(sender, { floor: record.floor, seen: new Set(record.seen), heard: record.heard });
    }
  }
  let duplicates = 0;

  const windowOf = (sender: string, now: number): SenderWindow => {
    let w = windows.get(sender);
    if (w === undefined) {
      if (windows.size >= maxSenders) forgetOldest();
      w = { floor: 0, seen: new Set(), heard: now };
      windows.set(sender, w);
    }
    w.heard = now;
    return w;
  };
  const forgetOldest = (): void => {
    let oldest: string | undefined;
    let at = Infinity;
    for (const [sender, w] of windows) {
      if (w.heard < at) {
        at = w.heard;
        oldest = sender;
      }
    }
    if (oldest === undefined) return;
    windows.delete(oldest);
    partition?.forget(oldest);
  };

  return {
    accept(self, message, envelope) {
      const { sender, seq } = message;
      const id = `${sender}:${String(seq)}`;
      const w = windowOf(sender, runtime.clock.now());
      if (message.floor > w.floor) {
        w.floor = message.floor;
        for (const s of w.seen) if (s < w.floor) w.seen.delete(s);
      }
      const ack = (): void => {
        self.replyTo(envelope ?? message, Ack({ sender, seq }));
      };
      if (seq < w.floor || w.seen.has(seq)) {
        duplicates++;
        ack();
        return undefined;
      }
      if (seq - w.floor >= window) {
        self.log.warn(
          { sender, seq, floor: w.floor, window },
          'reliable message beyond the window',
        );
        return undefined;
      }
      w.seen.add(seq);
      // Recorded (committed) before the application sees it, acknowledged after.
      partition?.save(sender, { floor: w.floor, seen: [...w.seen], heard: w.heard });
      ack();
      return { message: message.body, id, origin: message.origin };
    },
    get duplicates() {
      return duplicates;
    },
    get senders() {
      return windows.size;
    },
    close() {
      if (claim !== undefined && options.store !== undefined)
        storeInternals(options.store).release(claim);
      claim = undefined;
    },
  };
}
