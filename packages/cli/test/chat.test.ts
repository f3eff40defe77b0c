/**
 * `herald chat` between two real processes: stdin lines of one are stdout lines of the
 * other, both ways; the end of input ends a side cleanly.
 */
import { killAll } from '@herald/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { RUN_MS, finished, herald } from './support.js';

afterEach(killAll);

const STDERR = { stream: 'stderr' } as const;

describe('herald chat', () => {
  it('carries lines both ways between chat --listen and chat host:port', async () => {
    const server = herald('chat', '--listen', '0');
    const [, target] = await server.waitForLine(
      /^listening on (127\.0\.0\.1:\d+)$/,
      RUN_MS,
      STDERR,
    );
    const client = herald('chat', target as string);
    await client.waitForLine(/^connected to /, RUN_MS, STDERR);
    await server.waitForLine(/^peer joined 127\.0\.0\.1:\d+$/, RUN_MS, STDERR);

    client.writeLine('hello from the client');
    client.writeLine('  spaces and ünïcode kept  ');
    await server.waitForLine(/^hello from the client$/, RUN_MS);
    await server.waitForLine(/^ {2}spaces and ünïcode kept {2}$/, RUN_MS);
    server.writeLine('hello from the server');
    await client.waitForLine(/^hello from the server$/, RUN_MS);

    client.endInput();
    expect((await finished(client)).code).toBe(0);
    await server.waitForLine(/^peer left 127\.0\.0\.1:\d+$/, RUN_MS, STDERR);
    server.writeLine('nobody hears this');
    await server.waitForLine(/^no peer connected: line not sent$/, RUN_MS, STDERR);
    server.endInput();
    const ended = await finished(server);
    expect(ended.code).toBe(0);
    // stdout holds only the conversation.
    expect(ended.stdout).toEqual(['hello from the client', '  spaces and ünïcode kept  ']);
  }, 60_000);

  it('the connecting side ends with 0 when the listening side ends its chat', async () => {
    const server = herald('chat', '--listen=0');
    const [, target] = await server.waitForLine(
      /^listening on (127\.0\.0\.1:\d+)$/,
      RUN_MS,
      STDERR,
    );
    const client = herald('chat', target as string);
    await server.waitForLine(/^peer joined/, RUN_MS, STDERR);
    server.kill('SIGINT');
    expect((await finished(server)).code).toBe(0);
    const result = await finished(client);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/peer left/);
  }, 60_000);

  it('exits 1 when nothing listens and 2 without a target', async () => {
    const server = herald('chat', '--listen=0');
    const [, target] = await server.waitForLine(
      /^listening on (127\.0\.0\.1:\d+)$/,
      RUN_MS,
      STDERR,
    );
    server.kill('SIGTERM');
    await server.waitForExit(RUN_MS);
    const refused = await finished(herald('chat', target as string));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/ECONNREFUSED/);
    const usage = await finished(herald('chat'));
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/expected host:port/);
  }, 60_000);
});
