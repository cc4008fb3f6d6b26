import { describe, expect, it } from 'vitest';
import { formatResultLine, formatSummary, toJUnitXml } from './reporters.js';
import type { RunReport } from './runner.js';

const report: RunReport = {
  target: { kind: 'containerd', description: 'containerd 1.6.20' },
  startedAt: '2026-11-27T00:00:00.000Z',
  durationMs: 1500,
  results: [
    { id: 'cri/runtime Version answers', suite: 'cri/runtime', title: 'Version answers', status: 'passed', durationMs: 12, logs: [] },
    {
      id: 'cri/runtime Exit <3> & "code"',
      suite: 'cri/runtime',
      title: 'Exit <3> & "code"',
      status: 'failed',
      durationMs: 1200,
      error: { message: 'expected 3\nreceived 0' },
      divergence: 'fake: scripted',
      logs: ['sandbox abc'],
    },
  ],
  filteredOut: ['cri/image PullImage works'],
  passed: 1,
  failed: 1,
};

describe('reporters', () => {
  it('prints a line per spec with its mark, timing, divergence and error', () => {
    const line = formatResultLine(report.results[1]!);
    expect(line).toContain('FAIL  cri/runtime Exit <3> & "code"  (1.20 s)');
    expect(line).toContain('divergence: fake: scripted');
    expect(line).toContain('      received 0');
  });

  it('summarises counts, filtered specs and failures', () => {
    const summary = formatSummary(report);
    expect(summary).toContain('specs: 2 run, 1 passed, 1 failed, 1 filtered out by --focus/--skip');
    expect(summary).toContain('- cri/runtime Exit <3> & "code": expected 3');
  });

  it('writes JUnit XML with escaped names and one failure element', () => {
    const xml = toJUnitXml(report);
    expect(xml).toContain('<testsuite name="cri/runtime" tests="2" failures="1" time="1.212">');
    expect(xml).toContain('name="Exit &lt;3&gt; &amp; &quot;code&quot;"');
    expect(xml.match(/<failure /g)).toHaveLength(1);
    expect(xml).toContain('<system-out>divergence: fake: scripted\nsandbox abc</system-out>');
  });
});
