import { Cell } from './cell.js';
import { microtask } from './scheduler.js';
import type { Handler } from './behavior.js';
import type { Envelope } from './envelope.js';
import { Aborted, Stop } from './messages.js';

/** Runs a Handler: messages are queued and handed to `receive` one at a time. */
export class HandlerCell extends Cell {
  #handler: Handler | undefined;

  start(handler: Handler): void {
    this.#handler = handler;
    if (handler.start !== undefined) {
      microtask(() => {
        if (this.ended) return;
        try {
          handler.start?.(this);
        } catch (error) {
          this.end(this.core.faultFromError(this, error));
        }
      });
    }
  }

  protected accept(envelope: Envelope): boolean {
    if (!this.enqueue(envelope)) return false;
    this.core.scheduler.schedule(this);
    return true;
  }

  process(budget: number): number {
    const handler = this.#handler as Handler;
    let n = 0;
    while (!this.ended && n < budget) {
      const envelope = this.mailbox.shift();
      if (envelope === undefined) break;
      n++;
      this.returnAddress = envelope.from;
      this.toAddress = envelope.to;
      try {
        if (envelope.message.type === Stop.type) {
          if (handler.onStop !== undefined) handler.onStop(this);
          else this.end(Aborted());
        } else {
          handler.receive(this, envelope.message, envelope);
        }
      } catch (error) {
        this.end(this.core.faultFromError(this, error));
      }
    }
    if (!this.ended && this.mailbox.length > 0) this.core.scheduler.schedule(this);
    return n;
  }

  protected override onEnd(value: unknown): void {
    try {
      this.#handler?.end?.(this, value);
    } catch (error) {
      this.log.error({ err: error }, 'handler end() threw');
    }
  }
}
