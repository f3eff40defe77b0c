/**
 * Every default of the cluster scope (the NATS registry and the relay transport), in one
 * place; docs/discovery-cluster.md lists them.
 */

/** The JetStream KV bucket that holds the listings. */
export const DEFAULT_NATS_BUCKET = 'herald-discovery';

/**
 * How long a listing lives without a heartbeat. A publisher that dies is gone from every
 * watcher within this time after its last heartbeat (and from the bucket, which has it as
 * its max age, so a later watcher never sees it).
 */
export const DEFAULT_NATS_TTL_MS = 15_000;

/** Heartbeats per TTL: a listing survives two lost heartbeats. */
export const NATS_HEARTBEATS_PER_TTL = 3;

/** Wait between reconnect attempts to the NATS server. */
export const DEFAULT_NATS_RECONNECT_WAIT_MS = 500;

/** Wait before retrying a KV operation (bucket set-up, watch) that failed while connected. */
export const DEFAULT_NATS_RETRY_MS = 500;

/** Time a KV request (put, delete, watch set-up) may take before it is retried. */
export const DEFAULT_NATS_REQUEST_TIMEOUT_MS = 2_000;

/**
 * Largest size of the bucket (all listings with their overhead): what writers can make every
 * watcher of a broad search hold is bounded. Puts beyond it fail (and are reported).
 */
export const DEFAULT_NATS_MAX_BUCKET_BYTES = 64 * 1024 * 1024;

/** Largest listing value read from the bucket; larger values are ignored as hostile. */
export const MAX_LISTING_BYTES = 64 * 1024;

/** Shortest TTL accepted (heartbeats more often than this would flood the bucket). */
export const MIN_NATS_TTL_MS = 300;

/**
 * Bytes a relay stream's writer may have in flight (sent, not yet acknowledged as read by
 * the peer's reader) before writes wait: the receive window each side advertises.
 */
export const DEFAULT_RELAY_WINDOW_BYTES = 256 * 1024;

/** Largest DATA frame payload (well under NATS's default max_payload of 1 MiB). */
export const DEFAULT_RELAY_MAX_CHUNK_BYTES = 32 * 1024;

/** Quiet time after which a relay stream sends a PING so the peer knows it is alive. */
export const DEFAULT_RELAY_KEEPALIVE_MS = 5_000;

/** Silence from the peer after which a relay stream is closed (`peer-timeout`). */
export const DEFAULT_RELAY_TIMEOUT_MS = 20_000;

/** Time a dial waits for the listener's ACCEPT before it fails with ETIMEDOUT. */
export const DEFAULT_RELAY_DIAL_TIMEOUT_MS = 10_000;

/** Relay streams one transport holds at once; more connects are refused. */
export const DEFAULT_RELAY_MAX_STREAMS = 1_024;

/** First and last port a relay transport hands out (listen on 0, and dialing ends). */
export const RELAY_EPHEMERAL_PORT_FIRST = 49_152;
export const RELAY_EPHEMERAL_PORT_LAST = 65_535;
