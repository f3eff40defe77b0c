/**
 * One reassembly budget shared by every connection of a process. Each `FrameDecoder` has its
 * own bound (`maxReassemblyBytes`), but n connections would otherwise hold n times that:
 * the budget caps them together. Create one per network, pass it to every decoder
 * (`FrameDecoderOptions.reassemblyBudget`); a decoder reserves bytes before it allocates a
 * reassembly buffer and releases them when the message completes or the decoder ends.
 * A decoder that cannot reserve fails its own connection with `message-too-large`; the
 * others keep going.
 *
 * Decoders release on every way they end (`end()`, an error, a peer CLOSE, `dispose()`).
 * As a backstop for a decoder dropped without any of these, its reservation is also released
 * when the decoder is garbage-collected.
 */
import { DEFAULT_MAX_PROCESS_REASSEMBLY_BYTES } from './constants.js';
import { WireError } from './errors.js';

/** What one decoder holds from a budget; the budget releases it if the decoder is collected. */
export interface ReassemblyAccount {
  bytes: number;
}

export class ReassemblyBudget {
  readonly maxBytes: number;
  private used = 0;
  private readonly registry = new FinalizationRegistry<ReassemblyAccount>((account) =>
    this.release(account, account.bytes),
  );

  constructor(maxBytes: number = DEFAULT_MAX_PROCESS_REASSEMBLY_BYTES) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw new WireError('HERALD_ERR_WIRE_INVALID_ARGUMENT', `reassembly budget ${maxBytes}`);
    }
    this.maxBytes = maxBytes;
  }

  /** Bytes reserved by all decoders together. */
  get usedBytes(): number {
    return this.used;
  }

  /** A new account for `owner` (a decoder), released when `owner` is collected. */
  open(owner: object): ReassemblyAccount {
    const account: ReassemblyAccount = { bytes: 0 };
    this.registry.register(owner, account);
    return account;
  }

  /** Reserve `n` bytes for `account`; false (nothing reserved) if the budget would be exceeded. */
  tryReserve(account: ReassemblyAccount, n: number): boolean {
    if (this.used + n > this.maxBytes) return false;
    this.used += n;
    account.bytes += n;
    return true;
  }

  /** Give back `n` bytes of `account` (at most what it holds). */
  release(account: ReassemblyAccount, n: number): void {
    const m = Math.min(n, account.bytes);
    account.bytes -= m;
    this.used -= m;
  }
}
