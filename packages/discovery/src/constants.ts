/**
 * Every default of @herald/discovery, in one place (docs/discovery.md lists them).
 */

/**
 * The host directory's well-known loopback port. Every runtime on the host finds its host
 * directory here unless configured otherwise (`configureDiscovery`, `--directory`).
 */
export const DEFAULT_HOST_DIRECTORY_PORT = 32_171;

/** The LAN directory's default port (it listens on the address it is given). */
export const DEFAULT_LAN_DIRECTORY_PORT = 32_172;

/**
 * How long a subscriber stays on a farther route after a nearer one appears before it moves
 * (ansar's SECONDS_OF_HOLDING): long enough that a flapping nearer route does not make every
 * subscriber reconnect twice.
 */
export const DEFAULT_PROMOTION_HOLD_MS = 30_000;

/** Longest service name, in characters. */
export const MAX_NAME_LENGTH = 256;

/**
 * Longest regular-expression or glob pattern, in characters. Searches are run by a
 * directory (a network service) against every listing: their cost must be bounded.
 */
export const MAX_PATTERN_LENGTH = 256;

/** Endpoints one listing may carry. */
export const MAX_ENDPOINTS = 8;

/** Identities one listing's `allow` list may hold. */
export const MAX_ALLOW = 1_024;

/** Listings one directory connection may hold at once; more are refused. */
export const DEFAULT_MAX_LISTINGS_PER_CONNECTION = 1_024;

/** Searches one directory connection may hold at once; more are refused. */
export const DEFAULT_MAX_SEARCHES_PER_CONNECTION = 1_024;

/** Listings one directory holds at once, all connections together. */
export const DEFAULT_MAX_LISTINGS = 100_000;

/** How long a route whose connection failed is left alone before it is tried again. */
export const DEFAULT_ROUTE_RETRY_MS = 2_000;
