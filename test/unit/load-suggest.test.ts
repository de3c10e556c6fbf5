// "did you mean" suggestions used by the semantic checks.
import { describe, it, expect } from 'vitest';
import { closest, didYouMean, editDistance } from '../../src/util/suggest.js';

describe('suggestions', () => {
  it('measures edits', () => {
    expect(editDistance('standby', 'standby')).toBe(0);
    expect(editDistance('standy', 'standby')).toBe(1);
    expect(editDistance('db1', 'db3')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });
  it('suggests the closest name within a distance that grows with length', () => {
    expect(closest('standy', ['primary', 'standby', 'local'])).toBe('standby');
    expect(closest('primay', ['primary', 'standby'])).toBe('primary');
    expect(closest('PRIMARY', ['primary'])).toBe('primary');
    expect(closest('zzz', ['primary', 'standby'])).toBeUndefined();
    expect(closest('db9', [])).toBeUndefined();
  });
  it('words the suggestion, or says nothing', () => {
    expect(didYouMean('rn', ['run', 'on', 'id'])).toMatch(/did you mean '(run|on)'\?/);
    expect(didYouMean('completely-different', ['run'])).toBe('');
  });
});
