import { describe, expect, it } from 'vitest';
import { expandVars } from './expansion.js';

const vars: Record<string, string> = { A: 'alpha', B: 'beta' };
const lookup = (n: string): string | undefined => vars[n];

describe('expandVars', () => {
  it('replaces defined references and keeps undefined ones as written', () => {
    expect(expandVars('$(A)-$(B)-$(C)', lookup)).toBe('alpha-beta-$(C)');
  });

  it('treats $$ as an escaped dollar so $$(A) stays literal', () => {
    expect(expandVars('$$(A) costs $$5', lookup)).toBe('$(A) costs $5');
  });

  it('keeps lone dollars, empty and unterminated references', () => {
    expect(expandVars('$x $ $() $(A', lookup)).toBe('$x $ $() $(A');
    expect(expandVars('trailing $', lookup)).toBe('trailing $');
  });
});
