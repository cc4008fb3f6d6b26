import { describe, expect, it } from 'vitest';
import { parseCriLog, type LogMessage } from './cri-log-format.js';
import { LogWriter, findTailLineStart } from './log-writer.js';
import { newLogOptions, type PodLogOptions } from './pod-log-options.js';

function entry(line: string): LogMessage {
  const msg = parseCriLog(Buffer.from(line));
  if (typeof msg === 'string') throw new Error(msg);
  return msg;
}

function run(lines: string[], opts: PodLogOptions): string {
  const w = new LogWriter(newLogOptions(opts, Date.UTC(2026, 0, 1, 0, 1)));
  let out = '';
  for (const l of lines) {
    const chunk = w.write(entry(l));
    if (chunk) out += `${chunk.stream === 'stderr' ? '!' : ''}${chunk.data.toString()}`;
    if (w.exhausted) break;
  }
  return out;
}

const LINES = [
  '2026-01-01T00:00:10Z stdout P one-',
  '2026-01-01T00:00:20Z stdout F two\n',
  '2026-01-01T00:00:30Z stderr F err\n',
  '2026-01-01T00:00:40Z stdout F three\n',
];

describe('the log writer', () => {
  it('joins partial entries into their line and keeps each stream apart', () => {
    expect(run(LINES, {})).toBe('one-two\n!err\nthree\n');
  });

  it('prefixes a timestamp once per logical line, not per partial entry', () => {
    expect(run(LINES, { timestamps: true })).toBe(
      '2026-01-01T00:00:10.000000000Z one-two\n!2026-01-01T00:00:30.000000000Z err\n2026-01-01T00:00:40.000000000Z three\n',
    );
  });

  it('skips entries older than sinceSeconds or sinceTime', () => {
    expect(run(LINES, { sinceSeconds: 35 })).toBe('!err\nthree\n');
    expect(run(LINES, { sinceTime: '2026-01-01T00:00:31Z' })).toBe('three\n');
  });

  it('stops at limitBytes, cutting the last entry, timestamps counted', () => {
    expect(run(LINES, { limitBytes: 6 })).toBe('one-tw');
    expect(run(LINES, { limitBytes: 33, timestamps: true })).toBe('2026-01-01T00:00:10.000000000Z on');
  });
});

describe('the tail of a file', () => {
  const read = (text: string) => (position: number, length: number) => Promise.resolve(Buffer.from(text).subarray(position, position + length));

  it('starts at the last n complete lines; an unterminated line is not counted', async () => {
    const text = 'a\nbb\nccc\ndd';
    expect(await findTailLineStart(text.length, 1, read(text))).toBe(5);
    expect(await findTailLineStart(text.length, 2, read(text))).toBe(2);
    expect(await findTailLineStart(text.length, 0, read(text))).toBe(9);
    expect(await findTailLineStart(text.length, 10, read(text))).toBe(0);
    expect(await findTailLineStart(text.length, -1, read(text))).toBe(0);
    expect(await findTailLineStart(0, 3, read(''))).toBe(0);
  });

  it('finds lines across many blocks of a large file', async () => {
    const text = Array.from({ length: 5000 }, (_, i) => `line ${i}\n`).join('');
    const start = await findTailLineStart(text.length, 1234, read(text));
    expect(text.slice(start).split('\n').filter(Boolean)).toHaveLength(1234);
    expect(text.slice(start).startsWith('line 3766\n')).toBe(true);
  });
});
