import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  KEY_FILE_MODE,
  PUBLIC_KEY_PREFIX,
  createIdentity,
  formatPublicKey,
  loadIdentity,
  parsePublicKey,
  saveIdentity,
} from '../../src/wire/index.js';
import { seeded } from './handshake-support.js';

const posix = process.platform !== 'win32';

describe('identity keys', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'herald-identity-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('saves with mode 0600 and loads the same key pair', async () => {
    const id = createIdentity();
    const path = join(dir, 'server.key');
    await saveIdentity(path, id);
    if (posix) expect((await stat(path)).mode & 0o777).toBe(KEY_FILE_MODE);
    const text = await readFile(path, 'utf8');
    expect(text).toContain(`public ${formatPublicKey(id.publicKey)}`);
    const loaded = await loadIdentity(path);
    expect(loaded.publicKey).toEqual(id.publicKey);
    expect(loaded.secretKey).toEqual(id.secretKey);
  });

  it('does not replace an existing key file unless asked, and then keeps it private', async () => {
    const path = join(dir, 'k');
    await saveIdentity(path, createIdentity());
    await expect(saveIdentity(path, createIdentity())).rejects.toMatchObject({ code: 'EEXIST' });
    if (posix) await chmod(path, 0o644);
    const next = createIdentity();
    await saveIdentity(path, next, { overwrite: true });
    if (posix) expect((await stat(path)).mode & 0o777).toBe(KEY_FILE_MODE);
    expect((await loadIdentity(path)).publicKey).toEqual(next.publicKey);
  });

  it.skipIf(!posix)(
    'refuses a key file that group or others can read, with a typed error',
    async () => {
      const path = join(dir, 'k');
      await saveIdentity(path, createIdentity());
      for (const mode of [0o644, 0o640, 0o604, 0o660, 0o602]) {
        await chmod(path, mode);
        await expect(loadIdentity(path)).rejects.toMatchObject({
          name: 'WireError',
          code: 'HERALD_ERR_WIRE_KEY_FILE_EXPOSED',
        });
      }
      await chmod(path, 0o400);
      await expect(loadIdentity(path)).resolves.toBeDefined();
    },
  );

  it('refuses a file that is not a key file, or whose public key does not match', async () => {
    const path = join(dir, 'k');
    const cases = [
      'hello',
      'public herald-x25519:abc\nsecret abc\n',
      `secret ${Buffer.alloc(32, 1).toString('base64url')}\n`,
      `public ${formatPublicKey(createIdentity().publicKey)}\nsecret ${Buffer.alloc(32, 1).toString('base64url')}\n`,
      `public ${formatPublicKey(new Uint8Array(32))} extra\nsecret x\n`,
    ];
    for (const text of cases) {
      await writeFile(path, text, { mode: 0o600 });
      await expect(loadIdentity(path), text).rejects.toMatchObject({
        code: 'HERALD_ERR_WIRE_KEY_FILE_INVALID',
      });
    }
  });

  it('printable public keys round-trip and reject anything else', () => {
    const id = createIdentity(seeded(3));
    const text = formatPublicKey(id.publicKey);
    expect(text.startsWith(PUBLIC_KEY_PREFIX)).toBe(true);
    expect(text).toHaveLength(PUBLIC_KEY_PREFIX.length + 43);
    expect(text).toBe(formatPublicKey(createIdentity(seeded(3)).publicKey)); // stable
    expect(parsePublicKey(text)).toEqual(id.publicKey);
    expect(parsePublicKey(id.publicKey)).toEqual(id.publicKey);
    for (const bad of [
      text.slice(PUBLIC_KEY_PREFIX.length),
      text.slice(0, -1),
      `${text}A`,
      `${text.slice(0, -1)}*`,
      'herald-x25519:',
      new Uint8Array(31),
    ]) {
      expect(() => parsePublicKey(bad)).toThrow(
        expect.objectContaining({ code: 'HERALD_ERR_WIRE_INVALID_ARGUMENT' }),
      );
    }
  });
});
