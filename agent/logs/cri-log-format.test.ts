import { describe, expect, it } from 'vitest';
import { fixedNanoTimestamp, parseCriLog, parseCriLogLine, parseRfc3339Nano, parserFor, parseDockerJsonLog } from './cri-log-format.js';

describe('the CRI log format', () => {
  it('parses a full entry keeping its end-of-line, and a partial entry without it', () => {
    const full = parseCriLog(Buffer.from('2026-01-01T00:00:00.5Z stdout F hello world\n'));
    expect(typeof full).toBe('object');
    if (typeof full === 'string') return;
    expect([full.stream, full.log.toString(), full.ns]).toEqual(['stdout', 'hello world\n', 1_767_225_600_500_000_000n]);
    const partial = parseCriLog(Buffer.from('2026-01-01T00:00:00Z stderr P hel\n'));
    expect(typeof partial === 'string' ? partial : partial.log.toString()).toBe('hel');
  });

  it('ignores tags after the first and keeps spaces inside the message', () => {
    const msg = parseCriLog(Buffer.from('2026-01-01T00:00:00Z stdout F:x  two  spaces\n'));
    expect(typeof msg === 'string' ? msg : msg.log.toString()).toBe(' two  spaces\n');
  });

  it('says what is missing from a malformed line', () => {
    expect(parseCriLog(Buffer.from('garbage'))).toBe('timestamp is not found');
    expect(parseCriLog(Buffer.from('yesterday stdout F x'))).toBe('unexpected timestamp format "yesterday"');
    expect(parseCriLog(Buffer.from('2026-01-01T00:00:00Z stdin F x'))).toBe('unexpected stream type "stdin"');
    expect(parseCriLog(Buffer.from('2026-01-01T00:00:00Z stdout'))).toBe('stream type is not found');
    expect(parseCriLog(Buffer.from('2026-01-01T00:00:00Z stdout F'))).toBe('log tag is not found');
  });

  it('picks the parser by the first line: CRI, Docker JSON, or an error quoting the line', () => {
    expect(parserFor(Buffer.from('2026-01-01T00:00:00Z stdout F x\n'))).toBe(parseCriLog);
    expect(parserFor(Buffer.from('{"log":"x\\n","stream":"stderr","time":"2026-01-01T00:00:00Z"}\n'))).toBe(parseDockerJsonLog);
    expect(parserFor(Buffer.from('plain text\n'))).toBe('unsupported log format: "plain text\\n"');
  });

  it('reads RFC 3339 timestamps with any fraction and zone to nanoseconds', () => {
    expect(parseRfc3339Nano('2026-01-01T00:00:00Z')).toBe(1_767_225_600_000_000_000n);
    expect(parseRfc3339Nano('2026-01-01T01:00:00.000000001+01:00')).toBe(1_767_225_600_000_000_001n);
    expect(parseRfc3339Nano('2026-13-01T00:00:00Z')).toBeNull();
    expect(parseRfc3339Nano('2026-01-01 00:00:00Z')).toBeNull();
  });

  it('renders timestamps with nine fractional digits in their own zone, zero offsets as Z', () => {
    expect(fixedNanoTimestamp('2026-01-01T00:00:00.12Z')).toBe('2026-01-01T00:00:00.120000000Z');
    expect(fixedNanoTimestamp('2026-01-01T00:00:00Z')).toBe('2026-01-01T00:00:00.000000000Z');
    expect(fixedNanoTimestamp('2026-01-01T02:00:00.5+02:00')).toBe('2026-01-01T02:00:00.500000000+02:00');
    expect(fixedNanoTimestamp('2026-01-01T00:00:00+00:00')).toBe('2026-01-01T00:00:00.000000000Z');
  });

  it('gives tools the fields of a line as text', () => {
    expect(parseCriLogLine('2026-01-01T00:00:00Z stdout P abc')).toEqual({ time: '2026-01-01T00:00:00Z', stream: 'stdout', tag: 'P', message: 'abc' });
    expect(parseCriLogLine('nonsense')).toBeNull();
  });
});
