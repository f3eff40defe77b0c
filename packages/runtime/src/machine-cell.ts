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
import {
  createActor,
  type AnyActor,
  type AnyStateMachine,
  type InspectionEvent as XstateEvent,
} from 'xstate';
import { QueuedCell } from './cell.js';
import { microtask } from './scheduler.js';
import type { Envelope } from './envelope.js';
import type { XstateInspectionEvent } from './inspect.js';
import { jsonSafe } from './json-safe.js';
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
      // Forwarded to runtime.inspect() listeners while there are any (else one check).
      inspect: (event: XstateEvent) => {
        if (this.core.inspecting) this.#forwardInspection(event);
      },
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

  /** xstate's inspection event as a JSON-safe `{ kind: 'xstate' }` inspection event. */
  #forwardInspection(event: XstateEvent): void {
    let out: XstateInspectionEvent;
    const sessionId = event.actorRef.sessionId;
    switch (event.type) {
      case '@xstate.actor':
        out = {
          type: event.type,
          rootId: event.rootId,
          sessionId,
          id: (event.actorRef as { id?: string }).id ?? sessionId,
        };
        break;
      case '@xstate.event': {
        const sourceId = event.sourceRef?.sessionId;
        out = {
          type: event.type,
          rootId: event.rootId,
          sessionId,
          ...(sourceId === undefined ? {} : { sourceId }),
          event: jsonSafe(event.event) as { type: string },
        };
        break;
      }
      case '@xstate.snapshot': {
        const snapshot = event.snapshot as {
          status: string;
          value?: unknown;
          context?: unknown;
          output?: unknown;
          error?: unknown;
        };
        const copy: Record<string, unknown> = { status: snapshot.status };
        for (const key of ['value', 'context', 'output', 'error'] as const) {
          const value = jsonSafe(snapshot[key]);
          if (value !== undefined) copy[key] = value;
        }
        out = {
          type: event.type,
          rootId: event.rootId,
          sessionId,
          event: jsonSafe(event.event) as { type: string },
          snapshot: copy as { status: string },
        };
        break;
      }
      default:
        return; // transitions, microsteps, actions: not forwarded
    }
    this.core.emit({ kind: 'xstate', actor: this.address, event: out });
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
