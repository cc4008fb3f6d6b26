import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { packagePath } from '../../util/package-root.js';
import { renderCrashLoop, renderProbeTimeline } from './simulate.js';

const dir = packagePath('property-tests/scenarios');

describe('kubelet-harness simulate', () => {
  it('renders every example scenario without error', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const file of files) {
      const input: unknown = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8'));
      const { lines } = file.startsWith('crashloop') ? renderCrashLoop(input) : renderProbeTimeline(input);
      expect(lines.length).toBeGreaterThan(3);
    }
  });

  it('shows the liveness kill of the example on its tick row', () => {
    const input: unknown = JSON.parse(readFileSync(`${dir}/liveness-kill-and-restart.json`, 'utf8'));
    const { lines, outcome } = renderProbeTimeline(input);
    expect(outcome.kills).toEqual([{ t: 40, containerId: 'c1', reason: 'LivenessProbe', willRestart: true }]);
    expect(lines.find((l) => l.startsWith('40 '))).toContain('KILL c1 (LivenessProbe, will restart)');
  });

  it('lists the crash-loop waits', () => {
    const { lines } = renderCrashLoop({ restartPolicy: 'Always', runs: [{ durationSeconds: 1 }, { durationSeconds: 1 }, { durationSeconds: 1 }] });
    expect(lines.at(-1)).toBe('waits before each restart: 0, 10, 20');
  });

  it('names the bad field', () => {
    expect(() => renderProbeTimeline({ restartPolicy: 'Always', probes: {}, events: [{ t: 0, kind: 'explode' }] })).toThrow('events[0].kind: must be one of');
  });
});
