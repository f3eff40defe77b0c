/**
 * What `herald status` and `herald top` share: the operator's flags and the authenticated
 * connection to a process's management endpoint (@herald/management, docs/management.md).
 * The endpoint admits only its operators' keys and proves its own, so both flags are
 * required: `--identity` (this operator's key file) and `--peer-key` (the endpoint's key,
 * which the process prints when it opens the endpoint).
 */
import type { Address } from '@herald/codec';
import {
  DEFAULT_MANAGEMENT_LIST_LIMIT,
  DEFAULT_MANAGEMENT_TIMEOUT_MS,
  MAX_MANAGEMENT_LIST_LIMIT,
  connectManagement,
} from '@herald/management';
import { NotConnected, loadIdentity } from '@herald/net';
import type { Self } from '@herald/runtime';
import { parseHostPort, peekSettings, type SplitArguments } from './args.js';
import { CliError } from './errors.js';

export const operatorSettings = {
  identity: '',
  peerKey: '',
  timeout: DEFAULT_MANAGEMENT_TIMEOUT_MS,
  limit: DEFAULT_MANAGEMENT_LIST_LIMIT,
};
export const operatorHelp = {
  identity:
    "this operator's key file (herald keygen); its public key must be one of the endpoint's operators (required)",
  peerKey: "the management endpoint's public key, herald-x25519:… (required)",
  timeout: 'ms to wait for each answer',
  limit: `most actors, connections and groups to fetch (at most ${MAX_MANAGEMENT_LIST_LIMIT})`,
};
export type OperatorSettings = typeof operatorSettings;

/** Checks the operator flags before run(): a missing one is a usage error (exit 2). */
export function checkOperatorFlags(split: SplitArguments, defaults: OperatorSettings): void {
  if (split.help) return;
  const s = peekSettings(split.flags, defaults);
  if (s.identity === '')
    throw new CliError('HERALD_ERR_CLI_USAGE', '--identity is required (the operator key file)');
  if (s.peerKey === '')
    throw new CliError(
      'HERALD_ERR_CLI_USAGE',
      "--peer-key is required (the endpoint's public key)",
    );
  if (!Number.isInteger(s.limit) || s.limit < 1 || s.limit > MAX_MANAGEMENT_LIST_LIMIT)
    throw new CliError('HERALD_ERR_CLI_USAGE', `--limit must be 1 to ${MAX_MANAGEMENT_LIST_LIMIT}`);
}

/** Connects to the endpoint at `target`: its address, or the NotConnected fault. */
export async function connectOperator(
  self: Self,
  target: string,
  s: OperatorSettings,
): Promise<Address | NotConnected> {
  const identity = await loadIdentity(s.identity);
  return connectManagement(self, parseHostPort(target), { identity, peerKey: s.peerKey });
}

export { NotConnected };
