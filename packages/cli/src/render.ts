/**
 * Text views of a management Snapshot, shared by `herald status` (one view) and `herald
 * top` (one per interval, with rates from the previous one). Plain columns, no colour:
 * the same text goes to a terminal and to a pipe.
 */
import type { ActorEntry, ConnectionEntry, GroupEntry, Snapshot } from '@herald/management';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** `1536` → `1.5 KiB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** `3723000` → `1h02m03s`. */
export function formatDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  if (h > 0) return `${h}h${two(m)}m${two(s)}s`;
  if (m > 0) return `${m}m${two(s)}s`;
  return `${s}s`;
}

/** Left-aligned columns, two spaces apart; numbers right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map(
    (_, i) => rows.length > 0 && rows.every((r) => /^[\d.]+( \S+)?$/.test(r[i] ?? '')),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** Length of a key shown in a table: enough to tell operators apart at a glance. */
const SHORT_KEY_CHARS = 10;

/** A peer's key without its `herald-x25519:` prefix, cut short; `-` for none. */
function shortKey(identity: string | null): string {
  if (identity === null) return '-';
  const key = identity.replace(/^herald-x25519:/, '');
  return key.length <= SHORT_KEY_CHARS ? key : `${key.slice(0, SHORT_KEY_CHARS)}…`;
}

/** What top keeps from one snapshot to give rates in the next. */
export interface Previous {
  readonly at: number;
  readonly snapshot: Snapshot;
}

function perSecond(now: number, before: number | undefined, ms: number): string {
  if (before === undefined || ms <= 0) return '';
  return `${Math.max(0, Math.round(((now - before) * 1000) / ms))}/s`;
}

function connectionRows(
  connections: readonly ConnectionEntry[],
  previous: Previous | undefined,
  ms: number,
): string[][] {
  const before = new Map(previous?.snapshot.connections.map((c) => [c.address, c]));
  return connections.map((c) => {
    const old = before.get(c.address);
    const rate = (now: number, then: number | undefined) =>
      previous === undefined ? '' : perSecond(now, then ?? 0, ms).replace('/s', ' B/s');
    return [
      c.address,
      c.role,
      `${c.host}:${c.port}`,
      shortKey(c.identity),
      c.encrypted ? 'yes' : 'no',
      formatBytes(c.bytesIn),
      formatBytes(c.bytesOut),
      String(c.messagesIn),
      String(c.messagesOut),
      ...(previous === undefined
        ? []
        : [rate(c.bytesIn, old?.bytesIn), rate(c.bytesOut, old?.bytesOut)]),
      formatBytes(c.queuedBytes),
      c.congested ? 'congested' : c.state,
    ];
  });
}

function actorRows(actors: readonly ActorEntry[]): string[][] {
  return actors.map((a) => [
    a.address,
    a.name,
    a.kind,
    `${a.mailbox}/${a.capacity}`,
    a.parent ?? '-',
    a.state === undefined ? '' : JSON.stringify(a.state),
  ]);
}

function groupRows(groups: readonly GroupEntry[]): string[][] {
  return groups.map((g) => [
    g.address,
    g.ready ? 'ready' : 'not ready',
    g.members.map((m) => `${m.name}:${m.state}`).join(' '),
  ]);
}

export interface RenderOptions {
  /** The previous snapshot (top): adds message and byte rates. */
  readonly previous?: Previous;
  /** When this snapshot was taken (ms since the epoch). */
  readonly at: number;
  /** Show at most this many actors (busiest mailboxes first); all when absent. */
  readonly maxActors?: number;
}

/** The lines of one view of `snapshot`. */
export function renderSnapshot(snapshot: Snapshot, options: RenderOptions): string[] {
  const { status, totals } = snapshot;
  const ms = options.previous === undefined ? 0 : options.at - options.previous.at;
  const delivered = perSecond(
    status.messagesDelivered,
    options.previous?.snapshot.status.messagesDelivered,
    ms,
  );
  const lines = [
    `${status.name}  pid ${status.pid}  node ${status.node}  up ${formatDuration(status.uptimeMs)}  log ${status.logLevel}`,
    `actors ${status.actors}  connections ${status.connections}  groups ${status.groups}  ` +
      `delivered ${status.messagesDelivered}${delivered === '' ? '' : ` (${delivered})`}  ` +
      `dead letters ${status.deadLetters}  rss ${formatBytes(status.rssBytes)}  heap ${formatBytes(status.heapUsedBytes)}`,
    '',
    `CONNECTIONS (${totals.connections})`,
    ...table(
      [
        'ADDRESS',
        'ROLE',
        'PEER',
        'IDENTITY',
        'ENC',
        'IN',
        'OUT',
        'MSG IN',
        'MSG OUT',
        ...(options.previous === undefined ? [] : ['IN/S', 'OUT/S']),
        'QUEUED',
        'STATE',
      ],
      connectionRows(snapshot.connections, options.previous, ms),
    ),
  ];
  if (snapshot.groups.length > 0)
    lines.push(
      '',
      `GROUPS (${totals.groups})`,
      ...table(['ADDRESS', 'READY', 'MEMBERS'], groupRows(snapshot.groups)),
    );
  const actors = [...snapshot.actors].sort((a, b) => b.mailbox - a.mailbox);
  const shown = options.maxActors === undefined ? actors : actors.slice(0, options.maxActors);
  lines.push(
    '',
    `ACTORS (${totals.actors}${shown.length < totals.actors ? `, ${shown.length} shown, busiest first` : ''})`,
    ...table(['ADDRESS', 'NAME', 'KIND', 'MAILBOX', 'PARENT', 'STATE'], actorRows(shown)),
  );
  return lines;
}
