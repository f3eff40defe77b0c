/**
 * State-machine actors: an xstate v5 machine runs as a Herald actor.
 *
 * Messages arrive as events (a Herald message is already an xstate event: a plain object
 * with a `type`). An event the machine cannot take in its current state (`snapshot.can`
 * is false) becomes a dead letter instead of being silently ignored. A Stop the machine
 * does not handle stops it with Aborted. The machine's final output is the actor's
 * completion value; an error inside the machine is a Faulted completion.
 *
 * Actions reach Herald through the `herald` helpers (see machine.ts), which find this
 * actor from the action's `system`.
 */
import { createActor, type AnyActor, type AnyStateMachine } from 'xstate';
import { QueuedCell } from './cell.js';
import { microtask } from './scheduler.js';
import type { Envelope } from './envelope.js';
import { Aborted, Start, Stop } from './messages.js';
import type { Self } from './self.js';

/** xstate actor system → the Herald actor running it. */
export const machineSelves = new WeakMap<object, Self>();

export class MachineCell extends QueuedCell {
  #actor: AnyActor | undefined;

  #machine: AnyStateMachine | undefined;
  #input: unknown;

  start(machine: AnyStateMachine, input: unknown): void {
    this.#machine = machine;
    this.#input = input;
    const actor = createActor(machine, {
      input,
      clock: this.core.clock,
      id: this.name,
      logger: (...args: unknown[]) => this.log.info({ args }, 'machine log'),
    });
    this.#actor = actor;
    machineSelves.set(actor.system, this);
    actor.subscribe({
      next: (snapshot) => {
        // (An incarnation stopped for a restart says nothing more.)
        if (snapshot.status === 'done' && this.#actor === actor) this.end(snapshot.output);
      },
      error: (error: unknown) => {
        if (this.#actor === actor) this.end(this.core.faultFromError(this, error));
      },
    });
    microtask(() => {
      if (this.ended) return;
      actor.start();
      const snapshot = actor.getSnapshot();
      if (snapshot.status === 'active' && snapshot.can(Start())) actor.send(Start());
    });
  }

  override stateLabel(): string | undefined {
    const snapshot = this.#actor?.getSnapshot();
    if (snapshot === undefined || !('value' in snapshot)) return undefined;
    return typeof snapshot.value === 'string' ? snapshot.value : JSON.stringify(snapshot.value);
  }

  override get kind(): 'machine' {
    return 'machine';
  }

  /** The machine's current state value (a string, or an object of them: JSON-safe). */
  override stateValue(): unknown {
    const snapshot = this.#actor?.getSnapshot();
    return snapshot === undefined || !('value' in snapshot) ? undefined : snapshot.value;
  }

  protected handle(envelope: Envelope): void {
    const actor = this.#actor as AnyActor;
    const event = envelope.message;
    const snapshot = actor.getSnapshot();
    if (snapshot.status !== 'active') {
      this.deadLetter(envelope, 'actor-ended');
    } else if (snapshot.can(event)) {
      actor.send(event);
    } else if (event.type === Stop.type) {
      this.end(Aborted());
    } else {
      this.deadLetter(envelope, 'unhandled');
    }
  }

  protected override suspend(): void {
    this.onEnd();
  }

  protected override resume(): void {
    if (this.#machine !== undefined) this.start(this.#machine, this.#input);
    this.scheduleWaiting();
  }

  protected override onEnd(): void {
    const actor = this.#actor;
    if (actor !== undefined && actor.getSnapshot().status === 'active') actor.stop();
  }
}
