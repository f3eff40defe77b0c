import { QueuedCell } from './cell.js';
import { microtask } from './scheduler.js';
import type { Handler } from './behavior.js';
import type { Envelope } from './envelope.js';
import { Aborted, Stop, type Fault } from './messages.js';

/** Runs a Handler: messages are queued and handed to `receive` one at a time. */
export class HandlerCell extends QueuedCell {
  #handler: Handler | undefined;

  override get kind(): 'handler' {
    return 'handler';
  }

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

  protected handle(envelope: Envelope): void {
    const handler = this.#handler as Handler;
    if (envelope.message.type === Stop.type) {
      if (handler.onStop !== undefined) handler.onStop(this);
      else this.end(Aborted());
    } else {
      handler.receive(this, envelope.message, envelope);
    }
  }

  protected override suspend(fault: Fault): void {
    this.onEnd(fault);
  }

  protected override resume(): void {
    if (this.#handler !== undefined) this.start(this.#handler);
    this.scheduleWaiting();
  }

  protected override onEnd(value: unknown): void {
    try {
      this.#handler?.end?.(this, value);
    } catch (error) {
      this.log.error({ err: error }, 'handler end() threw');
    }
  }
}
