import { describe, expect, it } from 'vitest';
import { integerFlag } from './integer-flag.js';

describe('integer command-line options', () => {
  it('accepts decimal integers within the range, negative ones included', () => {
    expect(integerFlag('--port', '8080', 0, 65_535)).toBe(8080);
    expect(integerFlag('--seed', '-42', -(2 ** 31), 2 ** 31 - 1)).toBe(-42);
  });

  it('rejects other text and values outside the range, naming the flag', () => {
    for (const raw of ['', '1.5', '0x10', '12abc', ' 1', '65536', '-1']) {
      expect(() => integerFlag('--port', raw, 0, 65_535)).toThrow(`--port must be an integer between 0 and 65535, got "${raw}"`);
    }
  });
});
