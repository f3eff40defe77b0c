/**
 * What a connection does about messages that are not delivered, both ways:
 *
 * - refusals: a message the peer may not send (docs/security.md) is counted, reported as a
 *   dead letter `refused`, logged at a bounded rate, and after `maxRefusals` the caller is
 *   told to disconnect the peer (`policy-violation`);
 * - notices to the peer: each refused or undeliverable message is reported back to the peer
 *   as a `herald.Undeliverable` (a token bucket: at most `noticesPerSecond`, the rest
 *   counted), naming the ask it belonged to;
 * - notices from the peer: what this side sent and the peer could not deliver becomes a dead
 *   letter here with the far reason, and an ask among them ends at once with Unanswered.
 */
import type { Address } from '@herald/codec';
import { Faulted, Unanswered, type Logger, type Self } from '@herald/runtime';
import { answerCorrelation, Envelope, isAnswer, type LogThrottle } from '@herald/runtime/internal';
import { Undeliverable } from '../messages.js';

export interface FeedbackLimits {
  /** Refused messages after which the peer is disconnected. */
  readonly maxRefusals: number;
  /** Undeliverable notices sent per second at most (and the burst). */
  readonly noticesPerSecond: number;
}

export class DeliveryFeedback {
  readonly #self: Self;
  readonly #limits: FeedbackLimits;
  #refusals = 0;
  #tokens: number;
  #tokensAt: number;
  #noticesNotSent = 0;

  constructor(self: Self, limits: FeedbackLimits) {
    this.#self = self;
    this.#limits = limits;
    this.#tokens = limits.noticesPerSecond;
    this.#tokensAt = self.runtime.clock.now();
  }

  get refusals(): number {
    return this.#refusals;
  }

  /**
   * Counts and reports a refused message; true when the peer has now been refused too
   * often and must be disconnected.
   */
  refused(
    why: string,
    to: Address,
    from: Address,
    typeName: string,
    log: () => Logger,
    throttle: LogThrottle,
  ): boolean {
    this.#refusals++;
    this.#self.runtime.reportDeadLetter({
      to,
      from,
      message: { type: typeName },
      reason: 'refused',
      detail: why,
    });
    throttle.log(
      log(),
      'warn',
      'refused',
      { type: typeName, to: to.toString(), refusals: this.#refusals },
      `refused a message from the peer: ${why}`,
    );
    return this.#refusals >= this.#limits.maxRefusals;
  }

  /**
   * Tells the peer that a message it sent (from `sender`, in the ask `correlation`) was not
   * delivered here. Never about a notice, never without a return address; false when the
   * rate bound kept it from being sent (it is counted).
   */
  notify(
    sender: Address,
    typeName: string,
    reason: string,
    detail: string,
    correlation: number,
  ): boolean {
    if (typeName === Undeliverable.type || sender.isLocal) return true;
    const now = this.#self.runtime.clock.now();
    const rate = this.#limits.noticesPerSecond;
    this.#tokens = Math.min(rate, this.#tokens + ((now - this.#tokensAt) * rate) / 1000);
    this.#tokensAt = now;
    if (this.#tokens < 1) {
      this.#noticesNotSent++;
      return false;
    }
    this.#tokens -= 1;
    this.#self.runtime.send(
      sender,
      Undeliverable({ messageType: typeName, reason, detail, correlation }),
    );
    return true;
  }

  /** Notices not sent for the rate bound, so far. */
  get noticesNotSent(): number {
    return this.#noticesNotSent;
  }

  /** The peer could not deliver what `sender` sent: a dead letter here, with the far reason. */
  fromPeer(notice: Undeliverable, sender: Address): void {
    const self = this.#self;
    const why = `the peer did not deliver it: ${notice.reason} (${notice.detail})`;
    const c = notice.correlation;
    // The message was an ask: it ends now, with the far reason, instead of waiting.
    if (c !== 0 && !isAnswer(c) && sender.isLocal)
      self.runtime.deliver(
        new Envelope(
          sender,
          self.address,
          Unanswered({
            address: self.address,
            value: Faulted({ code: 'HERALD_NOT_DELIVERED', explanation: why }),
            explanation: `the peer did not deliver ${notice.messageType}: ${notice.reason}`,
          }),
          answerCorrelation(c),
        ),
      );
    self.runtime.reportDeadLetter({
      to: self.address,
      from: sender,
      message: { type: notice.messageType },
      reason: 'not-delivered',
      detail: why,
    });
  }
}
