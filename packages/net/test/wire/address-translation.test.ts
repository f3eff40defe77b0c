import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { propertyParameters, propertySeeds } from '@herald/testing';
import {
  RETURNING_HOME,
  inboundAddress,
  inboundTo,
  outboundAddress,
  outboundTo,
} from '../../src/wire/index.js';

/**
 * A model of processes joined by connections. Each connection has a proxy id on each end.
 * `send` delivers a message from an actor along a `to` stack, applying the translation
 * at every crossing exactly as a SocketProxy does, and records the links crossed.
 */
interface Link {
  readonly a: string;
  readonly b: string;
  /** Proxy in `a` standing for `b`, and in `b` standing for `a`. */
  readonly proxyAtA: number;
  readonly proxyAtB: number;
}

class Net {
  readonly links: Link[] = [];
  /** proxy id (unique per process) → link end */
  private readonly proxies = new Map<string, { link: Link; peer: string; peerProxy: number }>();

  connect(a: string, b: string, proxyAtA: number, proxyAtB: number): void {
    const link = { a, b, proxyAtA, proxyAtB };
    this.links.push(link);
    this.proxies.set(`${a}:${proxyAtA}`, { link, peer: b, peerProxy: proxyAtB });
    this.proxies.set(`${b}:${proxyAtB}`, { link, peer: a, peerProxy: proxyAtA });
  }

  /**
   * Route a message sent in `proc` to `to` with return address `ret`. Returns the process
   * and local actor it reaches, the return address as seen there and the links crossed.
   */
  send(
    proc: string,
    to: readonly number[],
    ret: readonly number[],
  ): { proc: string; actor: number | 'default'; ret: number[]; crossed: Link[] } {
    const crossed: Link[] = [];
    let here = proc;
    let t = to.slice();
    let r = ret.slice();
    for (let steps = 0; steps < 50; steps++) {
      const last = t[t.length - 1];
      const proxy = last === undefined ? undefined : this.proxies.get(`${here}:${last}`);
      if (proxy === undefined) {
        return {
          proc: here,
          actor: t.length === 0 ? 'default' : (last as number),
          ret: r,
          crossed,
        };
      }
      // Cross the link: outbound translation at `here`, inbound at the peer.
      const wireTo = outboundTo(t, last as number);
      const wireRet = outboundAddress(r, last as number);
      crossed.push(proxy.link);
      here = proxy.peer;
      const route = inboundTo(wireTo);
      t = route.type === 'default' ? [] : route.type === 'local' ? [route.actor] : route.to.slice();
      r = inboundAddress(wireRet, proxy.peerProxy);
    }
    throw new Error('routing loop');
  }
}

describe('address translation', () => {
  it('follows the documented rules on single crossings', () => {
    expect(outboundTo([7, 20], 20)).toEqual([7]);
    expect(outboundTo([20], 20)).toEqual([]);
    expect(outboundAddress([19], 20)).toEqual([19]);
    expect(outboundAddress([5, 20], 20)).toEqual([5, RETURNING_HOME]);
    expect(inboundAddress([19], 30)).toEqual([19, 30]);
    expect(inboundAddress([5, 0], 30)).toEqual([5]);
    expect(inboundAddress([0], 30)).toEqual([]);
    expect(inboundTo([])).toEqual({ type: 'default' });
    expect(inboundTo([4])).toEqual({ type: 'local', actor: 4 });
    expect(inboundTo([4, 9])).toEqual({ type: 'relay', to: [4, 9], via: 9 });
  });

  const proxyId = fc.integer({ min: 100, max: 10_000 });
  const actor = fc.integer({ min: 1, max: 99 });

  it('a reply along A→B→C resolves back to the sender without tromboning (property)', () => {
    for (const seed of propertySeeds()) {
      fc.assert(
        fc.property(
          fc.tuple(proxyId, proxyId, proxyId, proxyId),
          actor,
          actor,
          ([ab, ba, bc, cb], sender, target) => {
            fc.pre(new Set([ab, ba, bc, cb]).size === 4);
            const net = new Net();
            net.connect('A', 'B', ab, ba);
            net.connect('B', 'C', bc, cb);
            // A addresses `target` in C: from A it is [target, bc, ab].
            const there = net.send('A', [target, bc, ab], [sender]);
            expect(there.proc).toBe('C');
            expect(there.actor).toBe(target);
            expect(there.ret).toEqual([sender, ba, cb]);
            expect(there.crossed).toEqual(net.links);
            // The reply goes straight back along the return address.
            const back = net.send('C', there.ret, [target]);
            expect(back.proc).toBe('A');
            expect(back.actor).toBe(sender);
            expect(back.crossed).toEqual([...net.links].reverse());
            // And a second round trip from A using the reply's return address works too.
            const again = net.send('A', back.ret, [sender]);
            expect(again.proc).toBe('C');
            expect(again.actor).toBe(target);
          },
        ),
        propertyParameters(seed, 100),
      );
    }
  });

  it('an address of the receiver side sent back over the same link never trombones (property)', () => {
    for (const seed of propertySeeds()) {
      fc.assert(
        fc.property(fc.tuple(proxyId, proxyId), actor, actor, ([ab, ba], a, b) => {
          fc.pre(ab !== ba);
          const net = new Net();
          net.connect('A', 'B', ab, ba);
          // A tells B "reply to B's own actor b" by a space/return address [b, ab] held in A.
          const there = net.send('A', [b, ab], [b, ab]);
          expect(there.proc).toBe('B');
          expect(there.ret).toEqual([b]);
          // Replying reaches b locally in B without crossing the link again.
          const reply = net.send('B', there.ret, [a]);
          expect(reply.proc).toBe('B');
          expect(reply.crossed).toEqual([]);
        }),
        propertyParameters(seed, 100),
      );
    }
  });

  it('the peer proxy alone names the peer default target, both ways (property)', () => {
    for (const seed of propertySeeds()) {
      fc.assert(
        fc.property(fc.tuple(proxyId, proxyId), actor, ([ab, ba], a) => {
          fc.pre(ab !== ba);
          const net = new Net();
          net.connect('A', 'B', ab, ba);
          const there = net.send('A', [ab], [a]);
          expect(there).toMatchObject({ proc: 'B', actor: 'default' });
          expect(net.send('B', there.ret, [0])).toMatchObject({ proc: 'A', actor: a });
        }),
        propertyParameters(seed, 100),
      );
    }
  });

  it('chains of any length route replies back hop by hop (property)', () => {
    for (const seed of propertySeeds()) {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 8 }), actor, actor, (n, sender, target) => {
          const net = new Net();
          const procs = Array.from({ length: n + 1 }, (_, i) => `P${i}`);
          // Proxy ids: forward proxy in Pi = 1000 + i, backward proxy in Pi+1 = 2000 + i.
          for (let i = 0; i < n; i++)
            net.connect(procs[i] as string, procs[i + 1] as string, 1000 + i, 2000 + i);
          const to = [target, ...Array.from({ length: n }, (_, i) => 1000 + (n - 1 - i))];
          const there = net.send('P0', to, [sender]);
          expect(there).toMatchObject({ proc: `P${n}`, actor: target });
          const back = net.send(`P${n}`, there.ret, [target]);
          expect(back).toMatchObject({ proc: 'P0', actor: sender });
          expect(back.crossed).toHaveLength(n);
          expect(back.crossed).toEqual([...net.links].reverse());
        }),
        propertyParameters(seed, 100),
      );
    }
  });
});
