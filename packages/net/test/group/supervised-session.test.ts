/**
 * Groups use supervision where it fits: a group session spawned with a supervision policy
 * (`sessionOf(withOptions(session, { supervision }))`) is restarted in place when it faults,
 * instead of ending the group with the fault.
 */
import { Completed, withOptions, type Self } from '@herald/runtime';
import { connectTo, groupTable, Ready, sessionOf, type GroupSessionContext } from '@herald/net';
import { Hello, testRuntime, welcomingServer } from '@herald/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, startOwner } from './support.js';

afterEach(cleanup);

/** Announces itself to the owner; the first incarnation then faults. */
async function flakySession(self: Self, context: GroupSessionContext) {
  const incarnation = self.restart?.count ?? 0;
  self.send(context.owner, Hello({ myName: `session ${incarnation}` }));
  if (incarnation === 0) throw new Error('first session fails');
  await self.receive(Completed); // waits until stopped with the group
}

describe('group - supervised session', () => {
  it('group - a session with a restart policy is restarted in place; the group does not end', async () => {
    const { port } = await welcomingServer(testRuntime({ name: 'server' }));
    const owner = await startOwner(
      testRuntime({ name: 'client' }),
      groupTable({ server: connectTo({ host: '127.0.0.1', port }) }),
      {
        session: sessionOf(
          withOptions(flakySession, {
            supervision: { onFault: 'restart', backoff: { initialMs: 0 } },
          }),
        ),
      },
    );
    await owner.next(Ready);
    const first = await owner.next(Hello, (m) => m.myName === 'session 0');
    const second = await owner.next(Hello, (m) => m.myName === 'session 1');
    // The same session address across the restart.
    expect(second.from.equals(first.from)).toBe(true);
    expect(owner.count(Completed)).toBe(0);
  });
});
