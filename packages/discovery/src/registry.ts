/**
 * The registry contract (contracts §5): what a directory needs from whatever keeps listings
 * beyond it. A host or LAN directory keeps its listings in memory and answers searches itself;
 * the cluster scope keeps them in a NATS KV bucket (src/cluster/). Both sides of a directory
 * (the local one and an upstream) speak this interface, so a directory can forward listings
 * and searches to an upstream without knowing what the upstream is.
 *
 * These declarations are shared with the NATS engineer: change them only by appending a
 * dated CHANGE line to the contracts file and keeping the old form working.
 */

/** One way to reach a published service: a Herald listener at host:port, seen at a scope. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly scope: 'host' | 'lan' | 'cluster';
}

/** A publication: a name, where the publisher listens, and who may subscribe. */
export interface Listing {
  /** Unique per publication (random). */
  readonly id: string;
  /** The published service name. */
  readonly name: string;
  readonly endpoints: readonly Endpoint[];
  /** The publisher's public key (hex) when it has one. */
  readonly identity?: string;
  /** Identities (hex) that may subscribe; absent = anyone. */
  readonly allow?: readonly string[];
  /** NATS subject prefix for the relay route (cluster scope). */
  readonly relay?: string;
}

/** What a subscriber asks for: a name, a glob over names, or a regular expression. */
export type Search = { kind: 'exact' | 'glob' | 'regex'; pattern: string };

/** A store of listings that searches can watch. */
export interface Registry {
  /** Publish or refresh (heartbeat inside). */
  put(listing: Listing): Promise<void>;
  remove(id: string): Promise<void>;
  watch(
    search: Search,
    onEvent: (e: { kind: 'added' | 'removed'; listing: Listing }) => void,
  ): () => void;
  close(): Promise<void>;
}
