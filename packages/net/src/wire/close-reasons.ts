/**
 * CLOSE reason codes (u16 on the wire). Normative: docs/wire-protocol.md, "CLOSE reasons".
 * A receiver that gets a code it does not know treats it as `protocol-error`-free
 * information: it reports the number and closes normally.
 */
export const CloseReason = {
  NORMAL: 0,
  GOING_AWAY: 1,
  PROTOCOL_ERROR: 2,
  FRAME_TOO_LARGE: 3,
  VERSION_UNSUPPORTED: 4,
  ENCRYPTION_REQUIRED: 5,
  ENCRYPTION_REFUSED: 6,
  HANDSHAKE_TIMEOUT: 7,
  DECRYPT_FAILED: 8,
  KEEPALIVE_TIMEOUT: 9,
  MESSAGE_TOO_LARGE: 10,
  TOO_MANY_PARTIAL_MESSAGES: 11,
  COUNTER_EXHAUSTED: 12,
  INTERNAL_ERROR: 13,
  STALLED: 14,
  PEER_KEY_MISMATCH: 15,
  NOT_AUTHORIZED: 16,
  AUTHENTICATION_FAILED: 17,
  /** The peer kept sending what it may not (docs/security.md): set by the SocketProxy. */
  POLICY_VIOLATION: 20,
} as const;

export type CloseReasonCode = (typeof CloseReason)[keyof typeof CloseReason];

const NAMES: Record<number, string> = {
  0: 'normal',
  1: 'going-away',
  2: 'protocol-error',
  3: 'frame-too-large',
  4: 'version-unsupported',
  5: 'encryption-required',
  6: 'encryption-refused',
  7: 'handshake-timeout',
  8: 'decrypt-failed',
  9: 'keepalive-timeout',
  10: 'message-too-large',
  11: 'too-many-partial-messages',
  12: 'counter-exhausted',
  13: 'internal-error',
  14: 'stalled',
  15: 'peer-key-mismatch',
  16: 'not-authorized',
  17: 'authentication-failed',
  20: 'policy-violation',
};

/** The kebab-case name of a reason code, or `unknown-<n>` for a code this version lacks. */
export function closeReasonName(code: number): string {
  return NAMES[code] ?? `unknown-${code}`;
}
