import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../clock/virtual-clock.js';
import { realClock } from '../../clock/real-clock.js';
import { match } from '../../../fakes/journal/journal.js';
import { execProbe, expandProbeCommand } from './exec.js';
import { probeOutcome, runProbeWithRetries } from './run-probe.js';
import { startFakeRuntime, runContainer, type FakeRuntimeFixture } from './test-fixtures.js';

let fixture: FakeRuntimeFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

describe('exec probe against the fake CRI', () => {
  it('succeeds on exit 0 and fails on a non-zero exit, with stdout then stderr as output', async () => {
    fixture = await startFakeRuntime();
    const { containerId } = await runContainer(fixture, { pod: 'p', name: 'app', command: ['sh', '-c', 'echo hi > /tmp/ok; sleep 600'] });
    expect(await execProbe(fixture.cri, containerId, ['cat', '/tmp/ok'], 1)).toEqual({ result: 'success', output: 'hi\n' });
    const failed = await execProbe(fixture.cri, containerId, ['cat', '/tmp/missing'], 1);
    expect(failed.result).toBe('failure');
    expect(failed.output).toContain("can't open '/tmp/missing'");
    expect(failed.error).toBeUndefined();
  });

  it('fails (not errors) when the command outlives timeoutSeconds on the runtime clock', async () => {
    const clock = new VirtualClock();
    fixture = await startFakeRuntime(clock);
    const { containerId } = await runContainer(fixture, { pod: 'p', name: 'app', command: ['sleep', '600'] });
    const before = clock.pendingTimers();
    const pending = execProbe(fixture.cri, containerId, ['sleep', '5'], 1);
    // Let the ExecSync reach the fake (its timers appear) before virtual time moves.
    while (clock.pendingTimers() === before) await new Promise((r) => setTimeout(r, 5));
    await clock.advance(1000);
    expect(await pending).toEqual({ result: 'failure', output: 'command "sleep 5" timed out' });
  });

  it('reports a command the image does not have as a prober error, retried three times in one iteration', async () => {
    fixture = await startFakeRuntime();
    const { containerId } = await runContainer(fixture, { pod: 'p', name: 'app', command: ['sleep', '600'] });
    const run = await runProbeWithRetries(
      {
        probeType: 'liveness',
        probe: { exec: { command: ['no-such-binary'] }, timeoutSeconds: 1 },
        pod: { metadata: { name: 'p', namespace: 'default' } },
        podIP: '',
        container: { name: 'app' },
        containerId,
      },
      { clock: realClock, cri: fixture.cri, userAgent: 'kube-probe/1.34' },
    );
    expect(run.result).toBe('unknown');
    expect(run.error?.message).toContain('no-such-binary');
    expect(probeOutcome(run)).toBe('error');
    expect(fixture.fake.journal.entries(match('cri', 'ExecSync'))).toHaveLength(3);
  });

  it('expands $(VAR) from the container env only, valueFrom entries as empty, unknown names left as written', async () => {
    expect(
      expandProbeCommand(['sh', '-c', 'test -f $(FILE) && echo $(SECRET)x$(NOPE) $$(FILE)'], [
        { name: 'FILE', value: '/tmp/ok' },
        { name: 'SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
      ]),
    ).toEqual(['sh', '-c', 'test -f /tmp/ok && echo x$(NOPE) $(FILE)']);
    fixture = await startFakeRuntime();
    const { containerId } = await runContainer(fixture, { pod: 'p', name: 'app', command: ['sh', '-c', 'touch /tmp/ready; sleep 600'] });
    const run = await runProbeWithRetries(
      {
        probeType: 'readiness',
        probe: { exec: { command: ['cat', '$(MARKER)'] }, timeoutSeconds: 1 },
        pod: { metadata: { name: 'p', namespace: 'default' } },
        podIP: '',
        container: { name: 'app', env: [{ name: 'MARKER', value: '/tmp/ready' }] },
        containerId,
      },
      { clock: realClock, cri: fixture.cri, userAgent: 'kube-probe/1.34' },
    );
    expect(run.result).toBe('success');
    expect(fixture.fake.journal.entries(match('cri', 'ExecSync'))[0]?.request).toMatchObject({ cmd: ['cat', '/tmp/ready'] });
  });
});
