import { describe, expect, it } from 'vitest';
import { dns1123LabelErrors, invalidDns1123Label } from './dns1123.js';

describe('dns1123LabelErrors', () => {
  it('accepts lower-case alphanumerics with inner dashes, up to 63 characters', () => {
    for (const ok of ['a', 'web-0', '123-abc', 'x'.repeat(63)]) expect(dns1123LabelErrors(ok)).toEqual([]);
  });

  it('rejects upper case, underscores, leading or trailing dashes and the empty string with the API wording', () => {
    for (const bad of ['Web', 'web_1', '-web', 'web-', '']) {
      expect(dns1123LabelErrors(bad)).toEqual([
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      ]);
    }
  });

  it('says a dotted name that would be a valid subdomain must not contain dots', () => {
    expect(dns1123LabelErrors('web.example')).toEqual(['must not contain dots']);
  });

  it('reports the length before the format when both are wrong', () => {
    const errors = dns1123LabelErrors('A'.repeat(64));
    expect(errors[0]).toBe('must be no more than 63 characters');
    expect(errors).toHaveLength(2);
  });
});

describe('invalidDns1123Label', () => {
  it('prints the first problem the way field.Invalid does, naming the field and quoting the value', () => {
    expect(invalidDns1123Label('web.example', 'spec.subdomain')).toBe('spec.subdomain: Invalid value: "web.example": must not contain dots');
    expect(invalidDns1123Label('web', 'spec.hostname')).toBeUndefined();
  });
});
