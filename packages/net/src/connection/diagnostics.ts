/**
 * node:diagnostics_channel channels for connections (docs/observability.md), beside the
 * runtime's actor channels. Every message carries its `runtime` (channels are process-wide
 * by name). Published only when `hasSubscribers`: nothing is built otherwise.
 */
import diagnostics from 'node:diagnostics_channel';

/** `{ runtime, proxy, role, peer, identity }`: a connection completed its handshake. */
export const CHANNEL_CONNECTION_OPENED = 'herald:connection:opened';
/** `{ runtime, proxy, reason }`: a connection ended (after it opened, or before). */
export const CHANNEL_CONNECTION_CLOSED = 'herald:connection:closed';
/** `{ runtime, proxy }`: outbound bytes rose over the high-water mark (Congested). */
export const CHANNEL_CONNECTION_CONGESTED = 'herald:connection:congested';
/** `{ runtime, proxy }`: outbound bytes fell back to the low-water mark (Drained). */
export const CHANNEL_CONNECTION_DRAINED = 'herald:connection:drained';

export const connectionOpenedChannel = diagnostics.channel(CHANNEL_CONNECTION_OPENED);
export const connectionClosedChannel = diagnostics.channel(CHANNEL_CONNECTION_CLOSED);
export const connectionCongestedChannel = diagnostics.channel(CHANNEL_CONNECTION_CONGESTED);
export const connectionDrainedChannel = diagnostics.channel(CHANNEL_CONNECTION_DRAINED);
