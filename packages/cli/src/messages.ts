/**
 * The messages the herald command speaks. `herald.*` names are refused from the wire, so
 * the command's own protocol lives under `cli.*`: any server that answers cli.Ping with
 * cli.Pong (echoing `seq`) and takes cli.Data can be benched. `herald ping` needs none of
 * them: it measures the wire's own PING / PONG (MeasureRoundTrip), so any server will do.
 */
import { CliError } from './errors.js';
import { defineMessage, t, type AnyMessageType } from '@herald/codec';

/** herald bench → server (its round trips, and the end of a burst); answered with Pong carrying the same `seq`. */
export const Ping = defineMessage('cli.Ping', { seq: t.int() });
/** Server → herald bench. */
export const Pong = defineMessage('cli.Pong', { seq: t.int() });
/** herald request → server (`herald listen --reply` answers it). */
export const Request = defineMessage('cli.Request', { body: t.json() });
/** Server → herald request: the answer, whose body is printed. */
export const Response = defineMessage('cli.Response', { body: t.json() });

/**
 * herald bench → server, one way: counted, never printed nor answered (the cli.Ping after a
 * burst tells the sender they were all handled, since one connection keeps order).
 */
export const Data = defineMessage('cli.Data', { seq: t.int(), payload: t.bytes() });
/** One line of `herald chat`, either way. */
export const Chat = defineMessage('cli.Chat', { text: t.string() });

export const cliMessages: readonly AnyMessageType[] = [Ping, Pong, Request, Response, Data, Chat];

/**
 * A user message type declared at run time from its name, with one JSON field `body`: what
 * `herald send --type=T --json=…` sends and `herald listen --types=T` accepts. The known
 * cli.* names give their own declarations, so `--type=cli.Request` is a real Request.
 */
export function userMessage(name: string): AnyMessageType {
  if (name.startsWith('herald.'))
    throw new CliError('HERALD_ERR_CLI_USAGE', `${name}: herald.* types are Herald's own`);
  const known = cliMessages.find((type) => type.type === name);
  return known ?? defineMessage(name, { body: t.json() });
}
