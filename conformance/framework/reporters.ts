import type { RunReport, SpecResult } from './runner.js';

/** One line per spec as it finishes: mark, id, duration, and the divergence note when there is one. */
export function formatResultLine(result: SpecResult): string {
  const mark = result.status === 'passed' ? 'PASS' : 'FAIL';
  const line = `${mark}  ${result.id}  (${formatMs(result.durationMs)})`;
  const notes: string[] = [];
  if (result.divergence) notes.push(`      divergence: ${result.divergence}`);
  if (result.error) notes.push(...indent(result.error.message, '      '));
  for (const log of result.logs) notes.push(`      | ${log}`);
  return [line, ...notes].join('\n');
}

export function formatSummary(report: RunReport): string {
  const lines = [
    '',
    `target: ${report.target.kind} — ${report.target.description}`,
    `specs: ${report.results.length} run, ${report.passed} passed, ${report.failed} failed` +
      (report.filteredOut.length ? `, ${report.filteredOut.length} filtered out by --focus/--skip` : ''),
    `time: ${formatMs(report.durationMs)}`,
  ];
  const failures = report.results.filter((r) => r.status === 'failed');
  if (failures.length) {
    lines.push('', 'failed:');
    for (const f of failures) lines.push(`  - ${f.id}: ${f.error?.message.split('\n')[0] ?? ''}`);
  }
  return lines.join('\n');
}

export function toJsonReport(report: RunReport): string {
  return JSON.stringify(report, null, 2);
}

/** JUnit XML as CI systems read it: one <testsuite> per spec suite, failures with message and stack. */
export function toJUnitXml(report: RunReport): string {
  const bySuite = new Map<string, SpecResult[]>();
  for (const r of report.results) {
    const list = bySuite.get(r.suite) ?? [];
    list.push(r);
    bySuite.set(r.suite, list);
  }
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(
    `<testsuites name="kubelet-harness conformance (${xml(report.target.kind)})" tests="${report.results.length}" ` +
      `failures="${report.failed}" time="${seconds(report.durationMs)}" timestamp="${xml(report.startedAt)}">`,
  );
  for (const [suite, results] of bySuite) {
    const failures = results.filter((r) => r.status === 'failed').length;
    const time = results.reduce((s, r) => s + r.durationMs, 0);
    out.push(`  <testsuite name="${xml(suite)}" tests="${results.length}" failures="${failures}" time="${seconds(time)}">`);
    for (const r of results) {
      out.push(`    <testcase classname="${xml(suite)}" name="${xml(r.title)}" time="${seconds(r.durationMs)}">`);
      if (r.error) {
        out.push(`      <failure message="${xml(r.error.message.split('\n')[0] ?? '')}">${xml(r.error.stack ?? r.error.message)}</failure>`);
      }
      const systemOut = [...(r.divergence ? [`divergence: ${r.divergence}`] : []), ...r.logs];
      if (systemOut.length) out.push(`      <system-out>${xml(systemOut.join('\n'))}</system-out>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}

function xml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function indent(text: string, prefix: string): string[] {
  return text.split('\n').map((l) => prefix + l);
}
