import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { positiveIntFromEnv, useScratchTmpdir } from './measure.js';

describe('bench measurement helpers', () => {
  const savedTmpdir = process.env['TMPDIR'];
  afterEach(() => {
    if (savedTmpdir === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = savedTmpdir;
    delete process.env['BENCH_TEST_SIZE'];
  });

  it('keeps a TMPDIR the user set', () => {
    process.env['TMPDIR'] = '/somewhere/else';
    expect(useScratchTmpdir()).toEqual({ dir: '/somewhere/else', why: 'TMPDIR as set' });
    expect(process.env['TMPDIR']).toBe('/somewhere/else');
  });

  it('points TMPDIR at the tmpfs directory when TMPDIR is unset', () => {
    const shm = mkdtempSync(join(tmpdir(), 'fake-shm-'));
    try {
      delete process.env['TMPDIR'];
      expect(useScratchTmpdir(shm).dir).toBe(shm);
      expect(tmpdir()).toBe(shm);
    } finally {
      rmSync(shm, { recursive: true, force: true });
    }
  });

  it('falls back to the OS temp dir, and says so, when there is no tmpfs directory', () => {
    delete process.env['TMPDIR'];
    const scratch = useScratchTmpdir('/nonexistent/shm');
    expect(scratch.dir).toBe(tmpdir());
    expect(scratch.why).toMatch(/no writable \/nonexistent\/shm/);
    expect(process.env['TMPDIR']).toBeUndefined();
  });

  it('reads positive integers from the environment and rejects anything else naming the variable', () => {
    expect(positiveIntFromEnv('BENCH_TEST_SIZE', 7)).toBe(7);
    process.env['BENCH_TEST_SIZE'] = '12';
    expect(positiveIntFromEnv('BENCH_TEST_SIZE', 7)).toBe(12);
    process.env['BENCH_TEST_SIZE'] = '1.5';
    expect(() => positiveIntFromEnv('BENCH_TEST_SIZE', 7)).toThrow(/BENCH_TEST_SIZE must be a positive integer, got "1.5"/);
  });
});
