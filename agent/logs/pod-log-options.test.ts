import { describe, expect, it } from 'vitest';
import { decodePodLogQuery, kubeletLogQuery, newLogOptions, validatePodLogOptions } from './pod-log-options.js';

const q = (s: string): URLSearchParams => new URLSearchParams(s);

describe('pod log options', () => {
  it('decodes the query parameters kubectl sends, with Go boolean spellings', () => {
    expect(decodePodLogQuery(q('container=app&follow=true&previous=1&timestamps=True&tailLines=10&limitBytes=5&sinceSeconds=60'))).toEqual({
      options: { container: 'app', follow: true, previous: true, timestamps: true, tailLines: 10, limitBytes: 5, sinceSeconds: 60 },
    });
    expect(decodePodLogQuery(q('sinceTime=2026-01-01T00:00:00Z&follow=false'))).toEqual({ options: { follow: false, sinceTime: '2026-01-01T00:00:00Z' } });
  });

  it('rejects values the parameter codec cannot convert, naming the value', () => {
    expect(decodePodLogQuery(q('tailLines=ten'))).toEqual({ error: 'strconv.ParseInt: parsing "ten": invalid syntax' });
    expect(decodePodLogQuery(q('follow=yes'))).toEqual({ error: 'strconv.ParseBool: parsing "yes": invalid syntax' });
    expect('error' in decodePodLogQuery(q('sinceTime=yesterday'))).toBe(true);
  });

  it('validates as ValidatePodLogOptions does, field by field', () => {
    expect(validatePodLogOptions({ tailLines: -1, limitBytes: 0, sinceSeconds: 0 })).toEqual([
      { reason: 'FieldValueInvalid', field: 'tailLines', message: 'Invalid value: -1: must be greater than or equal to 0' },
      { reason: 'FieldValueInvalid', field: 'limitBytes', message: 'Invalid value: 0: must be greater than 0' },
      { reason: 'FieldValueInvalid', field: 'sinceSeconds', message: 'Invalid value: 0: must be greater than 0' },
    ]);
    expect(validatePodLogOptions({ sinceSeconds: 5, sinceTime: '2026-01-01T00:00:00Z' })).toEqual([
      { reason: 'FieldValueForbidden', field: '', message: 'Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified' },
    ]);
    expect(validatePodLogOptions({ tailLines: 0, limitBytes: 1, sinceSeconds: 1 })).toEqual([]);
  });

  it('builds the kubelet query from the options the kubelet reads, sinceTime at second precision', () => {
    const query = kubeletLogQuery({ container: 'app', follow: true, previous: true, timestamps: true, tailLines: 3, limitBytes: 9, sinceTime: '2026-01-01T00:00:00.75Z' });
    expect(query.toString()).toBe('follow=true&limitBytes=9&previous=true&sinceTime=2026-01-01T00%3A00%3A00Z&tailLines=3&timestamps=true');
    expect(kubeletLogQuery({ follow: false }).toString()).toBe('');
  });

  it('turns sinceSeconds into a point before now, and lets a later sinceTime win', () => {
    const now = Date.UTC(2026, 0, 1, 0, 1, 0);
    expect(newLogOptions({ sinceSeconds: 60 }, now).sinceNs).toBe(BigInt(Date.UTC(2026, 0, 1)) * 1_000_000n);
    expect(newLogOptions({}, now)).toEqual({ tail: -1, bytes: -1, sinceNs: 0n, follow: false, timestamp: false });
    expect(newLogOptions({ tailLines: 2, limitBytes: 7, follow: true, timestamps: true, sinceTime: '2026-01-01T00:00:30Z' }, now)).toEqual({
      tail: 2,
      bytes: 7,
      sinceNs: BigInt(Date.UTC(2026, 0, 1, 0, 0, 30)) * 1_000_000n,
      follow: true,
      timestamp: true,
    });
  });
});
