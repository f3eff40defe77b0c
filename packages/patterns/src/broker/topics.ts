/**
 * Topics and wildcard subscriptions (docs/routing.md, "Topic broker"), NATS-style:
 *
 * - a topic is dot-separated tokens: `sensors.kitchen.temperature`;
 * - a subscription pattern may use `*` for exactly one token (`sensors.*.temperature`) and,
 *   as its last token only, `>` for one or more tokens (`sensors.>`);
 * - tokens are non-empty and hold no whitespace; a published topic holds no wildcard.
 *
 * TopicTable keeps subscriptions in a trie of tokens, so a publish costs the topic's depth
 * times the branches that can match (`*`, `>`, the literal token), not the number of
 * subscriptions.
 */

/** Longest topic or pattern, in characters. */
export const MAX_TOPIC_LENGTH = 256;

/** Most tokens in a topic or pattern. */
export const MAX_TOPIC_TOKENS = 16;

const TOKEN = /^[^\s.*>]+$/;

/** Why `topic` cannot be published to, or undefined when it can. */
export function badTopic(topic: string): string | undefined {
  return check(topic, false);
}

/** Why `pattern` cannot be subscribed to, or undefined when it can. */
export function badPattern(pattern: string): string | undefined {
  return check(pattern, true);
}

function check(text: string, wildcards: boolean): string | undefined {
  if (typeof text !== 'string' || text.length === 0) return 'empty';
  if (text.length > MAX_TOPIC_LENGTH) return `longer than ${String(MAX_TOPIC_LENGTH)} characters`;
  const tokens = text.split('.');
  if (tokens.length > MAX_TOPIC_TOKENS) return `more than ${String(MAX_TOPIC_TOKENS)} tokens`;
  for (const [i, token] of tokens.entries()) {
    if (wildcards && token === '*') continue;
    if (wildcards && token === '>') {
      if (i !== tokens.length - 1) return '">" must be the last token';
      continue;
    }
    if (!TOKEN.test(token))
      return token.length === 0
        ? 'an empty token'
        : wildcards
          ? `bad token "${token}" (wildcards are whole tokens)`
          : `bad token "${token}" (no wildcards in a published topic)`;
  }
  return undefined;
}

/** Whether `topic` matches `pattern` (both assumed valid). */
export function topicMatches(pattern: string, topic: string): boolean {
  const p = pattern.split('.');
  const t = topic.split('.');
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === '>') return t.length > i;
    if (i >= t.length) return false;
    if (token !== '*' && token !== t[i]) return false;
  }
  return p.length === t.length;
}

interface Node<S> {
  readonly children: Map<string, Node<S>>;
  /** Subscribers whose pattern ends here. */
  readonly here: Set<S>;
}

function node<S>(): Node<S> {
  return { children: new Map(), here: new Set() };
}

/** Subscriptions by pattern, matched against topics. */
export class TopicTable<S> {
  readonly #root: Node<S> = node();
  #size = 0;

  /** Subscriptions held (a subscriber with two patterns counts twice). */
  get size(): number {
    return this.#size;
  }

  /** Adds `subscriber` under `pattern` (valid, see badPattern). False if it was there. */
  add(pattern: string, subscriber: S): boolean {
    let at = this.#root;
    for (const token of pattern.split('.')) {
      let next = at.children.get(token);
      if (next === undefined) {
        next = node();
        at.children.set(token, next);
      }
      at = next;
    }
    if (at.here.has(subscriber)) return false;
    at.here.add(subscriber);
    this.#size += 1;
    return true;
  }

  /** Removes `subscriber` from `pattern`. False if it was not there. */
  remove(pattern: string, subscriber: S): boolean {
    const path: Node<S>[] = [this.#root];
    const tokens = pattern.split('.');
    for (const token of tokens) {
      const next = path[path.length - 1]?.children.get(token);
      if (next === undefined) return false;
      path.push(next);
    }
    const end = path[path.length - 1] as Node<S>;
    if (!end.here.delete(subscriber)) return false;
    this.#size -= 1;
    // prune empty branches so the trie does not grow with churn
    for (let i = tokens.length; i > 0; i--) {
      const n = path[i] as Node<S>;
      if (n.here.size > 0 || n.children.size > 0) break;
      (path[i - 1] as Node<S>).children.delete(tokens[i - 1] as string);
    }
    return true;
  }

  /** Every subscriber with a pattern matching `topic`, each once. */
  match(topic: string): Set<S> {
    const out = new Set<S>();
    const tokens = topic.split('.');
    const walk = (at: Node<S>, i: number): void => {
      const rest = at.children.get('>');
      if (rest !== undefined && i < tokens.length) for (const s of rest.here) out.add(s);
      if (i === tokens.length) {
        for (const s of at.here) out.add(s);
        return;
      }
      const literal = at.children.get(tokens[i] as string);
      if (literal !== undefined) walk(literal, i + 1);
      const one = at.children.get('*');
      if (one !== undefined) walk(one, i + 1);
    };
    walk(this.#root, 0);
    return out;
  }
}
