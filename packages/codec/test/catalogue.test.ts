import { describe, expect, it } from 'vitest';
import { createCatalogue, defineMessage, isCodecError, t } from '../src/index.js';
import { Hello, Item } from './fixtures.js';

describe('catalogue', () => {
  it('finds added types by name and lists names in insertion order', () => {
    const catalogue = createCatalogue([Hello]).add(Item);
    expect(catalogue.get('Hello')).toBe(Hello);
    expect(catalogue.has('Item')).toBe(true);
    expect(catalogue.has('Nope')).toBe(false);
    expect(catalogue.get('Nope')).toBeUndefined();
    expect(catalogue.names()).toEqual(['Hello', 'Item']);
    expect(catalogue.size).toBe(2);
  });

  it('treats re-adding the same definition as a no-op', () => {
    const catalogue = createCatalogue([Hello, Hello]).add(Hello);
    expect(catalogue.names()).toEqual(['Hello']);
  });

  it('rejects another definition under an existing name and stays unchanged', () => {
    const catalogue = createCatalogue([Hello]);
    const Other = defineMessage('Hello', { x: t.int() });
    const Fresh = defineMessage('Fresh', {});
    let error: unknown;
    try {
      catalogue.add(Fresh, Other);
    } catch (e) {
      error = e;
    }
    expect(isCodecError(error) && error.code).toBe('HERALD_ERR_DUPLICATE_TYPE');
    expect(catalogue.names()).toEqual(['Hello']);
  });

  it('extend returns a new catalogue and leaves the original alone', () => {
    const base = createCatalogue([Hello]);
    const more = base.extend(Item);
    expect(more.names()).toEqual(['Hello', 'Item']);
    expect(base.names()).toEqual(['Hello']);
    expect(base.extend(createCatalogue([Item])).has('Item')).toBe(true);
  });

  it('merge adds every type of another catalogue and detects conflicts', () => {
    const a = createCatalogue([Hello]);
    a.merge(createCatalogue([Item, Hello]));
    expect(a.names()).toEqual(['Hello', 'Item']);
    const clash = createCatalogue([defineMessage('Item', {})]);
    expect(() => a.merge(clash)).toThrow(
      expect.objectContaining({ code: 'HERALD_ERR_DUPLICATE_TYPE' }),
    );
  });

  it('two catalogues are independent (no global registry)', () => {
    const a = createCatalogue([Hello]);
    const b = createCatalogue();
    expect(b.has('Hello')).toBe(false);
    expect(a.has('Hello')).toBe(true);
  });
});
