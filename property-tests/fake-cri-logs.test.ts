import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../agent/clock/virtual-clock.js';
import { CriLogWriter, parseCriLogLine } from '../fakes/cri/cri-log.js';

const dir = mkdtempSync(join(tmpdir(), 'fake-cri-log-prop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Text as a reader of CRI logs reconstructs it: P entries continue a line, F entries end it. */
function reconstruct(file: string, stream: 'stdout' | 'stderr'): string {
  let text = '';
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    if (raw === '') continue;
    const entry = parseCriLogLine(raw);
    if (!entry) throw new Error(`not a CRI log line: ${JSON.stringify(raw)}`);
    if (entry.stream !== stream) continue;
    text += entry.tag === 'P' ? entry.message : `${entry.message}\n`;
  }
  return text;
}

const chunk = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }).map((s) => s.replace(/[\r\n]/g, '')),
  fc.constantFrom('\n', 'line\n', 'é€😀\n', ''),
);

describe('CRI log files written by the fake', () => {
  it('reconstruct exactly what each stream wrote, with long lines split at UTF-8 boundaries within the byte limit', () => {
    let n = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom<'stdout' | 'stderr'>('stdout', 'stderr'), chunk), { maxLength: 40 }), fc.integer({ min: 4, max: 64 }), (writes, maxLine) => {
        const file = join(dir, `${n++}.log`);
        const writer = new CriLogWriter(file, new VirtualClock(), maxLine);
        writer.open();
        for (const [stream, text] of writes) writer.write(stream, text);
        writer.close();
        for (const stream of ['stdout', 'stderr'] as const) {
          const written = writes.filter(([s]) => s === stream).map(([, t]) => t).join('');
          const expected = written === '' || written.endsWith('\n') ? written : `${written}\n`;
          expect(reconstruct(file, stream)).toBe(expected);
        }
        for (const raw of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
          const message = parseCriLogLine(raw)!.message;
          // A single code point may exceed a tiny limit; otherwise every entry fits.
          expect(Buffer.byteLength(message) <= maxLine || [...message].length === 1).toBe(true);
        }
      }),
      { numRuns: 1_000, seed: 11 },
    );
  });
});
