/**
 * Defaults of @herald/management, one place for each.
 */

/** Where the management listeners bind unless told otherwise: loopback only. */
export const DEFAULT_MANAGEMENT_HOST = '127.0.0.1';

/** Entries a list answer carries at most (actors, connections, groups, subscriptions). */
export const DEFAULT_MANAGEMENT_LIST_LIMIT = 1_000;

/** The most any request may ask for with `limit` (bounds one answer's size). */
export const MAX_MANAGEMENT_LIST_LIMIT = 10_000;

/** How long the client helpers wait for an answer by default (ms). */
export const DEFAULT_MANAGEMENT_TIMEOUT_MS = 5_000;

/** Updates per second one inspector WebSocket receives at most. */
export const DEFAULT_INSPECTOR_UPDATES_PER_SECOND = 5;

/**
 * Bytes a browser may leave unread on its WebSocket before the inspector stops sending it
 * increments and waits to send one fresh snapshot instead (never unbounded buffering).
 */
export const DEFAULT_INSPECTOR_MAX_BUFFERED_BYTES = 1024 * 1024;

/** Recent dead letters and xstate events the inspector keeps to show (each a ring). */
export const DEFAULT_INSPECTOR_HISTORY = 200;

/** Inspector WebSocket connections held at once; more are refused with HTTP 503. */
export const DEFAULT_INSPECTOR_MAX_CLIENTS = 16;

/** Bytes of the random access token (hex in the URL and the cookie). */
export const INSPECTOR_TOKEN_BYTES = 24;

/** Longest string a management message field carries (names, reasons, levels). */
export const MAX_MANAGEMENT_TEXT = 1_024;
