/**
 * File and stream transfer (issue 13 item 6) over real sockets on 127.0.0.1: whole files
 * arrive identical with progress at both ends; the window bounds what the sender reads
 * ahead; a hostile peer's names and chunks cannot write outside the directory or slip
 * damaged bytes in; a connection killed mid-transfer resumes from the receiver's offset.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Connected, connect, createIdentity } from '@herald/net';
import { PRIORITY_LOW } from '@herald/runtime/internal';
import {
  closeTestRuntimes,
  spawnProbe,
  startFaultRelay,
  testRuntime,
  type FaultRelay,
} from '@herald/testing';
import { BadPatternOptionError } from '../src/errors.js';
import { sendFile, sendStream } from '../src/transfer/api.js';
import {
  DEFAULT_TRANSFER_CHUNK_BYTES,
  TRANSFER_PARTIAL_DIRECTORY,
} from '../src/transfer/constants.js';
import {
  TransferAccept,
  TransferChunk,
  TransferCompleted,
  TransferFailed,
  TransferOffer,
  TransferProgress,
  transferMessages,
} from '../src/transfer/messages.js';
import {
  receivingEnd,
  reconnectingEnd,
  removeTempDirectories,
  sendingEnd,
  tempDirectory,
} from './transfer-support.js';

const relays: FaultRelay[] = [];
afterEach(async () => {
  await closeTestRuntimes();
  await Promise.all(relays.splice(0).map((r) => r.close()));
  await removeTempDirectories();
});

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

async function sourceFile(bytes: number, name = 'source.bin') {
  const dir = await tempDirectory('outbox');
  const file = path.join(dir, name);
  const data = randomBytes(bytes);
  await writeFile(file, data);
  return { file, data };
}

describe('transfer', () => {
  it('a file arrives identical, with progress at both ends and one outcome each', async () => {
    const receiving = await receivingEnd({ progressEveryBytes: 256 * 1024 });
    const { client, to } = await sendingEnd(receiving.port);
    const size = 3 * 1024 * 1024 + 12_345; // not a multiple of the chunk size
    const { file, data } = await sourceFile(size, 'report.bin');
    sendFile(client.self, to, file, { progressEveryBytes: 256 * 1024 });

    const sent = (await client.next(TransferCompleted)).message;
    const received = (await receiving.server.next(TransferCompleted)).message;
    expect(sent).toMatchObject({
      name: 'report.bin',
      direction: 'send',
      size,
      sha256: sha256(data),
    });
    expect(received).toMatchObject({
      direction: 'receive',
      size,
      sha256: sha256(data),
      resumes: 0,
    });
    expect(received.path).toBe(path.join(receiving.directory, 'report.bin'));
    expect(Buffer.compare(await readFile(received.path as string), data)).toBe(0);
    // no partial file left behind
    expect(await readdir(path.join(receiving.directory, TRANSFER_PARTIAL_DIRECTORY))).toEqual([]);

    for (const probe of [client, receiving.server]) {
      const progress = probe.all(TransferProgress).map((p) => p.bytes);
      expect(progress.length).toBeGreaterThanOrEqual(5);
      expect(progress).toEqual([...progress].sort((a, b) => a - b)); // never goes back
      expect(progress.at(-1)).toBe(size);
      expect(probe.count(TransferFailed)).toBe(0);
    }
  });

  it('a stream of unknown size arrives; an empty file too', async () => {
    const receiving = await receivingEnd();
    const { client, to } = await sendingEnd(receiving.port);
    const data = randomBytes(200_000);
    const stream = new PassThrough();
    sendStream(client.self, to, stream, { name: 'stream.bin' });
    for (let i = 0; i < data.length; i += 7_000) stream.write(data.subarray(i, i + 7_000));
    stream.end();
    const done = (await receiving.server.next(TransferCompleted)).message;
    expect(done.size).toBe(data.length);
    expect(Buffer.compare(await readFile(done.path as string), data)).toBe(0);
    await client.next(TransferCompleted);

    const empty = await sourceFile(0, 'empty.txt');
    sendFile(client.self, to, empty.file);
    const second = (await receiving.server.next(TransferCompleted)).message;
    expect([second.name, second.size, second.sha256]).toEqual([
      'empty.txt',
      0,
      sha256(Buffer.alloc(0)),
    ]);
  });

  it('the sender reads only as far as the window allows ahead of the acknowledgements', async () => {
    // The receiver here is a probe that accepts and never acknowledges: the sender must
    // stop reading after `window` chunks, however much the source could give.
    const priorities: number[] = [];
    const rt = testRuntime({ messages: transferMessages });
    const receiver = await spawnProbe(rt, {
      name: 'silent-receiver',
      onMessage(message, self, envelope) {
        if (TransferChunk.is(message)) priorities.push(envelope.priority);
        if (TransferOffer.is(message))
          self.replyTo(
            envelope,
            TransferAccept({
              id: message.id,
              receiver: self.address,
              offset: 0,
              epoch: 1,
              chunkBytes: message.chunkBytes,
              window: message.window,
            }),
          );
      },
    });
    const client = await spawnProbe(rt, 'client');
    let pulled = 0;
    async function* endless() {
      for (;;) {
        pulled += 1024;
        yield new Uint8Array(1024);
      }
    }
    sendStream(client.self, receiver.address, endless(), {
      name: 'endless',
      chunkBytes: 4096,
      window: 3,
    });
    await receiver.next(TransferChunk);
    await receiver.next(TransferChunk);
    await receiver.next(TransferChunk);
    // Give the sender every chance to read more (it is waiting on acknowledgements): many
    // turns of the event loop, on which the generator, the runtime and the sender all run;
    // no wall-clock wait.
    for (let turn = 0; turn < 50; turn++) await new Promise<void>((r) => setImmediate(r));
    expect(receiver.count(TransferChunk)).toBe(3);
    expect(pulled).toBeLessThanOrEqual(3 * 4096 + 1024);
    expect(priorities).toEqual([PRIORITY_LOW, PRIORITY_LOW, PRIORITY_LOW]); // chunks go at low priority
  });

  it('refuses what is over the limit: a declared size at the offer, a stream as it grows', async () => {
    const receiving = await receivingEnd({ maxBytes: 100_000 });
    const { client, to } = await sendingEnd(receiving.port);
    const big = await sourceFile(100_001, 'big.bin');
    sendFile(client.self, to, big.file);
    expect((await client.next(TransferFailed)).message).toMatchObject({
      reason: 'too-large',
      direction: 'send',
    });

    const stream = new PassThrough();
    sendStream(client.self, to, stream, { name: 'growing.bin', chunkBytes: 16_384 });
    stream.end(randomBytes(150_000));
    expect((await client.next(TransferFailed)).message.reason).toBe('too-large');
    expect((await receiving.server.next(TransferFailed)).message.reason).toBe('too-large');
    expect(existsSync(path.join(receiving.directory, 'growing.bin'))).toBe(false);
    expect(await readdir(path.join(receiving.directory, TRANSFER_PARTIAL_DIRECTORY))).toEqual([]);
  });

  it('never replaces an existing file unless told to', async () => {
    const receiving = await receivingEnd();
    await writeFile(path.join(receiving.directory, 'taken.txt'), 'mine');
    const { client, to } = await sendingEnd(receiving.port);
    const src = await sourceFile(10, 'taken.txt');
    sendFile(client.self, to, src.file);
    expect((await client.next(TransferFailed)).message.reason).toBe('exists');
    expect(await readFile(path.join(receiving.directory, 'taken.txt'), 'utf8')).toBe('mine');
  });

  it('checks options at the call', () => {
    const rt = testRuntime();
    const self = { address: rt.spawn(async () => {}), runtime: rt } as never;
    expect(() => sendFile(self, self, '/tmp/x', { name: '../x' })).toThrow(BadPatternOptionError);
    expect(() => sendFile(self, self, '/tmp/x', { window: 0 })).toThrow(/window/);
    expect(() => sendFile(self, self, '/tmp/x', { chunkBytes: 10 })).toThrow(/chunkBytes/);
    expect(() => sendFile(self, self, '/tmp/x', { id: 'a/b' })).toThrow(/id/);
  });
});

describe('transfer against a hostile peer', () => {
  /** A raw peer: a probe connected to the receiving end that crafts transfer messages itself. */
  async function hostilePeer(port: number) {
    const peer = await spawnProbe(testRuntime({ messages: transferMessages }), 'hostile');
    connect(peer.self, { host: '127.0.0.1', port }, { messages: transferMessages });
    const { from } = await peer.next(Connected);
    return { peer, proxy: from };
  }

  it('refuses names that are paths, traversals, reserved or control characters, and writes nothing outside', async () => {
    const outside = await tempDirectory('outside');
    const receiving = await receivingEnd({ directory: path.join(outside, 'inbox') });
    const { peer, proxy } = await hostilePeer(receiving.port);
    const names = [
      '../escape.txt',
      '../../etc/passwd',
      '/etc/passwd',
      'a/b.txt',
      'a\\b.txt',
      '..',
      '.',
      TRANSFER_PARTIAL_DIRECTORY,
      'C:evil',
      'nul\u0000byte',
      'line\nbreak',
      'é'.repeat(128), // 128 characters, 256 bytes
    ];
    for (const [i, name] of names.entries()) {
      peer.self.send(
        proxy,
        TransferOffer({ id: `hostile${String(i)}`, name, size: 4, chunkBytes: 4096, window: 1 }),
      );
      const refused = (await peer.next(TransferFailed)).message;
      expect([name, refused.reason]).toEqual([name, 'bad-name']);
    }
    peer.self.send(
      proxy,
      TransferOffer({ id: '../../x', name: 'ok.txt', size: 4, chunkBytes: 4096, window: 1 }),
    );
    expect((await peer.next(TransferFailed)).message.reason).toBe('protocol-error');
    // nothing was created anywhere: the directory itself is made only for an accepted transfer
    expect(await readdir(outside)).toEqual([]);
  });

  it('a transfer a proven peer started cannot be resumed or taken over by another peer', async () => {
    const receiving = await receivingEnd({}, { encrypted: true });
    const join = async (name: string) => {
      const peer = await spawnProbe(testRuntime({ messages: transferMessages }), name);
      connect(
        peer.self,
        { host: '127.0.0.1', port: receiving.port },
        { messages: transferMessages, identity: createIdentity() },
      );
      return { peer, proxy: (await peer.next(Connected)).from };
    };
    const offer = TransferOffer({
      id: 'owned',
      name: 'owned.bin',
      size: 10,
      chunkBytes: 4096,
      window: 1,
    });
    const alice = await join('alice');
    alice.peer.self.send(alice.proxy, offer);
    expect((await alice.peer.next(TransferAccept)).message.epoch).toBe(1);
    const mallory = await join('mallory');
    mallory.peer.self.send(mallory.proxy, offer);
    const refused = (await mallory.peer.next(TransferFailed)).message;
    expect([refused.reason, refused.detail]).toEqual([
      'refused',
      'the transfer belongs to another peer',
    ]);
    alice.peer.self.send(alice.proxy, offer); // the owner still resumes it
    expect((await alice.peer.next(TransferAccept)).message.epoch).toBe(2);

    // the receiver restarts on the same directory: the partial on disk is still alice's
    await receiving.server.self.runtime.close();
    const again = await receivingEnd({ directory: receiving.directory }, { encrypted: true });
    const join2 = async (name: string, identity: ReturnType<typeof createIdentity>) => {
      const peer = await spawnProbe(testRuntime({ messages: transferMessages }), name);
      connect(
        peer.self,
        { host: '127.0.0.1', port: again.port },
        { messages: transferMessages, identity },
      );
      return { peer, proxy: (await peer.next(Connected)).from };
    };
    const mallory2 = await join2('mallory-again', createIdentity());
    mallory2.peer.self.send(mallory2.proxy, offer);
    expect((await mallory2.peer.next(TransferFailed)).message.detail).toBe(
      'the partial file belongs to another peer',
    );
    expect(existsSync(path.join(again.directory, TRANSFER_PARTIAL_DIRECTORY, 'owned.part'))).toBe(
      true,
    );
  });

  it('abandoned transfers cannot fill the disk: partial files are bounded', async () => {
    const receiving = await receivingEnd({ maxPartialFiles: 2 });
    const { peer, proxy } = await hostilePeer(receiving.port);
    for (const id of ['first', 'second']) {
      peer.self.send(
        proxy,
        TransferOffer({ id, name: `${id}.bin`, size: 10, chunkBytes: 4096, window: 1 }),
      );
      await peer.next(TransferAccept, (a) => a.id === id);
    }
    peer.self.send(
      proxy,
      TransferOffer({ id: 'third', name: 'third.bin', size: 10, chunkBytes: 4096, window: 1 }),
    );
    const refused = (await peer.next(TransferFailed)).message;
    expect([refused.id, refused.reason]).toEqual(['third', 'busy']);
    expect(
      (await readdir(path.join(receiving.directory, TRANSFER_PARTIAL_DIRECTORY))).sort(),
    ).toEqual(['first.json', 'first.part', 'second.json', 'second.part']);
  });

  it('a chunk that does not match its sha256 fails the transfer at both ends and leaves no file', async () => {
    const receiving = await receivingEnd();
    const { peer, proxy } = await hostilePeer(receiving.port);
    peer.self.send(
      proxy,
      TransferOffer({ id: 'tampered', name: 't.bin', size: 8, chunkBytes: 4096, window: 1 }),
    );
    const accept = (await peer.next(TransferAccept)).message;
    const data = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const wrong = createHash('sha256').update(Buffer.from('other')).digest();
    peer.self.send(
      accept.receiver,
      TransferChunk({ id: 'tampered', epoch: accept.epoch, offset: 0, data, sha256: wrong }),
    );
    expect((await peer.next(TransferFailed)).message.reason).toBe('checksum-mismatch');
    expect((await receiving.server.next(TransferFailed)).message.reason).toBe('checksum-mismatch');
    expect(existsSync(path.join(receiving.directory, 't.bin'))).toBe(false);
    expect(await readdir(path.join(receiving.directory, TRANSFER_PARTIAL_DIRECTORY))).toEqual([]);
  });

  it('bytes damaged on the wire are caught by the chunk checksum (a tampering relay)', async () => {
    const receiving = await receivingEnd();
    // The file repeats a marker; the relay flips one byte of the first marker it sees.
    const marker = Buffer.from('<<HERALD-MARKER>>');
    const block = Buffer.concat([randomBytes(4096 - marker.length), marker]);
    const content = Buffer.concat(Array.from({ length: 64 }, () => block));
    let tampered = false;
    const relay = await startFaultRelay({
      target: { host: '127.0.0.1', port: receiving.port },
      rewrite(chunk, direction) {
        if (tampered || direction !== 'to-target') return chunk;
        const at = chunk.indexOf(marker);
        if (at < 0) return chunk;
        tampered = true;
        const copy = Buffer.from(chunk);
        copy[at + 2] = 0x21;
        return copy;
      },
    });
    relays.push(relay);
    const { client, to } = await sendingEnd(relay.port);
    const dir = await tempDirectory('outbox');
    const file = path.join(dir, 'marked.bin');
    await writeFile(file, content);
    sendFile(client.self, to, file);
    const failed = (await client.next(TransferFailed)).message;
    expect(tampered).toBe(true);
    expect([failed.reason, failed.direction]).toEqual(['checksum-mismatch', 'send']);
    expect((await receiving.server.next(TransferFailed)).message.reason).toBe('checksum-mismatch');
    expect(existsSync(path.join(receiving.directory, 'marked.bin'))).toBe(false);
  });
});

describe('transfer across a reconnect', () => {
  it('a connection reset mid-transfer resumes from what the receiver has, and the file is whole', async () => {
    const receiving = await receivingEnd();
    const relay = await startFaultRelay({ target: { host: '127.0.0.1', port: receiving.port } });
    relays.push(relay);
    const { client, to } = await reconnectingEnd(relay.port);
    const data = randomBytes(40 * DEFAULT_TRANSFER_CHUNK_BYTES + 99);
    const half = 20 * DEFAULT_TRANSFER_CHUNK_BYTES;
    const stream = new PassThrough();
    sendStream(client.self, to, stream, { name: 'resumed.bin', progressEveryBytes: 1 });
    stream.write(data.subarray(0, half));
    // the receiver has the first half (acknowledged): kill the connection
    await client.next(TransferProgress, (p) => p.bytes === half);
    relay.resetAll();
    // the rest goes only once the transfer has resumed on a new connection
    const resumed = await client.next(TransferProgress, (p) => p.resumes === 1);
    expect(resumed.message.bytes).toBe(half);
    stream.end(data.subarray(half));

    const sent = (await client.next(TransferCompleted)).message;
    const received = (await receiving.server.next(TransferCompleted)).message;
    expect(sent.resumes).toBe(1);
    expect(received.resumes).toBe(1);
    expect(received.sha256).toBe(sha256(data));
    expect(Buffer.compare(await readFile(received.path as string), data)).toBe(0);
    expect(relay.connections).toBe(2);
  });

  it('a re-offer after completion is answered with the completion, not a second copy', async () => {
    const receiving = await receivingEnd();
    const { client, to } = await sendingEnd(receiving.port);
    const src = await sourceFile(5_000, 'once.bin');
    sendFile(client.self, to, src.file, { id: 'once' });
    await client.next(TransferCompleted);
    sendFile(client.self, to, src.file, { id: 'once' });
    const again = (await client.next(TransferCompleted)).message;
    expect(again.sha256).toBe(sha256(src.data));
    expect(receiving.server.count(TransferCompleted)).toBe(1);
  });

  it('a completion remembered for an id is checked against the file: other content with the same id fails', async () => {
    const receiving = await receivingEnd();
    const { client, to } = await sendingEnd(receiving.port);
    const src = await sourceFile(5_000, 'same-id.bin');
    sendFile(client.self, to, src.file, { id: 'reused' });
    await client.next(TransferCompleted);
    const other = await sourceFile(5_000, 'same-id.bin');
    sendFile(client.self, to, other.file, { id: 'reused' });
    expect((await client.next(TransferFailed)).message.reason).toBe('checksum-mismatch');
  });
});
