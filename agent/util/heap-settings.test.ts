import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AGENT_SEMI_SPACE_MB } from './heap-settings.js';

describe('agent heap settings', () => {
  it('are the ones the CLI starts node with', () => {
    const shebang = readFileSync(new URL('../cmd/main.ts', import.meta.url), 'utf8').split('\n')[0];
    expect(shebang).toBe(`#!/usr/bin/env -S node --max-semi-space-size=${AGENT_SEMI_SPACE_MB}`);
  });

  it('name a flag this node accepts', () => {
    const out = execFileSync(process.execPath, [`--max-semi-space-size=${AGENT_SEMI_SPACE_MB}`, '-e', 'process.stdout.write("ok")'], { encoding: 'utf8' });
    expect(out).toBe('ok');
  });
});
