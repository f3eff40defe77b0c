/**
 * Stream bodies leave the message's `type` out (the network header carries it); the stream
 * decoder puts it back from the type name it is given (docs/codec.md, "Stream state").
 */
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { BODY_FLAG_STREAM, createCatalogue, createCodec, defineMessage, t } from '../src/index.js';
import { codeOf } from './fixtures.js';

const Ping = defineMessage('test.LongTypeNamePing', { n: t.int(), note: t.optional(t.string()) });
const Other = defineMessage('test.Other', { n: t.int() });
const codec = createCodec({ catalogue: createCatalogue([Ping, Other]) });

describe('stream bodies without the type name', () => {
  it('do not carry the type name, and decode back with it', () => {
    const { encoder, decoder } = codec.createStream();
    const first = encoder.encodeBody(Ping({ n: 1 }));
    const second = encoder.encodeBody(Ping({ n: 2, note: 'x' }));
    for (const body of [first.body, second.body]) {
      expect(Buffer.from(body).includes(Buffer.from(Ping.type))).toBe(false);
    }
    for (const s of [first, second]) {
      if (s.structureUpdate !== undefined) decoder.applyStructures(s.structureUpdate);
    }
    expect(decoder.decodeBody(Ping.type, first.body, [], first.flags)).toEqual(Ping({ n: 1 }));
    expect(decoder.decodeBody(Ping.type, second.body, [], second.flags)).toEqual(
      Ping({ n: 2, note: 'x' }),
    );
    // The top-level shape is shared: the second body of the same shape is a few bytes.
    const third = encoder.encodeBody(Ping({ n: 3 }));
    expect(third.structureUpdate).toBeUndefined();
    expect(third.body.length).toBeLessThan(5);
  });

  it('still reads a stream body that carries its type, and refuses one of another type', () => {
    const { decoder } = codec.createStream();
    const typed = new Packr({ useRecords: true }).pack({ type: Ping.type, n: 4 });
    expect(decoder.decodeBody(Ping.type, typed, [], BODY_FLAG_STREAM)).toEqual(Ping({ n: 4 }));
    const wrong = new Packr({ useRecords: true }).pack({ type: Other.type, n: 4 });
    expect(codeOf(() => decoder.decodeBody(Ping.type, wrong, [], BODY_FLAG_STREAM))).toBe(
      'HERALD_ERR_SCHEMA',
    );
  });
});
