import { afterEach, describe, expect, it } from 'vitest';
import { createCriClient, type CriClient } from '../../agent/runtime/cri-client.js';
import { CriError } from '../../agent/runtime/rpc-error.js';
import { match, type JournalEntry } from '../journal/journal.js';
import { startFakeCri, type FakeCri, type StartFakeCriOptions } from './server.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function setup(options: StartFakeCriOptions = {}): Promise<{ fake: FakeCri; cri: CriClient }> {
  const fake = await startFakeCri(options);
  cleanups.push(() => fake.close());
  const cri = createCriClient({ runtimeEndpoint: fake.endpoint, timeoutMs: 5_000 });
  cleanups.push(() => cri.close());
  return { fake, cri };
}

const config = (name: string, extra: Record<string, unknown> = {}) => ({ metadata: { name, uid: `uid-${name}`, namespace: 'ns1', attempt: 0 }, ...extra });

const seqOf = (entries: JournalEntry[]): number[] => entries.map((e) => e.seq);

describe('the fake CRI pod network through the CNI plugin', () => {
  it('runs CNI ADD inside RunPodSandbox with the sandbox ID, eth0 and a netns path, and the result IP is the pod IP', async () => {
    const { fake, cri } = await setup();
    const { podSandboxId } = await cri.runPodSandbox({ config: config('web') });
    const add = fake.journal.first(match('cni', 'ADD', { podSandboxId }));
    const rpc = fake.journal.first(match('cri', 'RunPodSandbox', { podSandboxId }));
    expect(add).toBeDefined();
    expect(add!.seq).toBeLessThan(rpc!.seq);
    expect(add!.subject).toMatchObject({ containerId: podSandboxId, ifname: 'eth0', podName: 'web', podNamespace: 'ns1', podUid: 'uid-web' });
    expect(add!.subject['netns']).toMatch(/^\/var\/run\/netns\/cni-/);
    expect(add!.request).toMatchObject({ type: 'kubelet-harness-cni', chained: true });
    const ip = (await cri.podSandboxStatus({ podSandboxId })).status?.network?.ip ?? '';
    expect(ip).toBe(fake.runtime.podIp(podSandboxId));
    expect((add!.response as { ips: Array<{ address: string }> }).ips[0]!.address.split('/')[0]).toBe(ip);
  });

  it('runs CNI DEL inside every StopPodSandbox and the stop within RemovePodSandbox, as containerd 1.6 does, with no netns after the first', async () => {
    const { fake, cri } = await setup();
    const { podSandboxId } = await cri.runPodSandbox({ config: config('db') });
    await cri.stopPodSandbox({ podSandboxId });
    const first = fake.journal.entries(match('cni', 'DEL', { podSandboxId }));
    const stop = fake.journal.first(match('cri', 'StopPodSandbox', { podSandboxId }))!;
    expect(first).toHaveLength(1);
    expect(first[0]!.seq).toBeLessThan(stop.seq);
    expect(first[0]!.subject['netns']).toMatch(/^\/var\/run\/netns\/cni-/);
    await cri.removePodSandbox({ podSandboxId });
    const dels = fake.journal.entries(match('cni', 'DEL', { podSandboxId }));
    const remove = fake.journal.first(match('cri', 'RemovePodSandbox', { podSandboxId }))!;
    expect(seqOf(dels)).toHaveLength(2);
    expect(dels[1]!.seq).toBeGreaterThan(stop.seq);
    expect(dels[1]!.seq).toBeLessThan(remove.seq);
    expect(dels[1]!.subject['netns']).toBeUndefined();
    expect(dels.every((d) => d.error === undefined)).toBe(true);
    // Once removed, the sandbox is unknown: nothing more reaches the plugin.
    await cri.removePodSandbox({ podSandboxId });
    expect(fake.journal.entries(match('cni', 'DEL', { podSandboxId }))).toHaveLength(2);
  });

  it('makes no CNI call for a host-network sandbox', async () => {
    const { fake, cri } = await setup();
    const { podSandboxId } = await cri.runPodSandbox({ config: config('host', { linux: { securityContext: { namespaceOptions: { network: 'NODE' } } } }) });
    await cri.stopPodSandbox({ podSandboxId });
    expect(fake.journal.entries((e) => e.source === 'cni')).toEqual([]);
  });

  it('fails RunPodSandbox naming the plugin when ADD fails, cleans up with DEL and leaves no sandbox, name or address behind', async () => {
    const { fake, cri } = await setup({ cniNetwork: { faults: [{ command: 'ADD', nth: 1, code: 11, msg: 'no capacity' }] } });
    let error: unknown;
    await cri.runPodSandbox({ config: config('flaky') }).catch((e: unknown) => (error = e));
    expect(error).toBeInstanceOf(CriError);
    expect((error as CriError).kind).toBe('Unknown');
    expect((error as CriError).details).toMatch(/^failed to setup network for sandbox "[0-9a-f]+": plugin type="kubelet-harness-cni" name="fake-cri-loopback" failed \(add\): no capacity$/);
    const add = fake.journal.first(match('cni', 'ADD'))!;
    expect(add.error).toMatchObject({ code: 11, message: 'no capacity' });
    expect(fake.journal.first((e) => e.source === 'cni' && e.name === 'DEL' && e.seq > add.seq)).toBeDefined();
    expect(fake.runtime.sandboxIds()).toEqual([]);
    // The name is free again and the next ADD (not faulted) goes through.
    const { podSandboxId } = await cri.runPodSandbox({ config: config('flaky') });
    expect(fake.journal.first(match('cni', 'ADD', { podSandboxId }))?.error).toBeUndefined();
  });

  it('fails StopPodSandbox when DEL fails and tears the network down on the next stop', async () => {
    const { fake, cri } = await setup({ cniNetwork: { faults: [{ command: 'DEL', nth: 1, code: 11, msg: 'busy' }] } });
    const { podSandboxId } = await cri.runPodSandbox({ config: config('sticky') });
    let error: unknown;
    await cri.stopPodSandbox({ podSandboxId }).catch((e: unknown) => (error = e));
    expect((error as CriError).details).toBe(`failed to destroy network for sandbox "${podSandboxId}": plugin type="kubelet-harness-cni" name="fake-cri-loopback" failed (delete): busy`);
    expect((await cri.podSandboxStatus({ podSandboxId })).status?.state).toBe('SANDBOX_READY');
    await cri.stopPodSandbox({ podSandboxId });
    const dels = fake.journal.entries(match('cni', 'DEL', { podSandboxId }));
    expect(dels.map((e) => e.error === undefined)).toEqual([false, true]);
    expect((await cri.podSandboxStatus({ podSandboxId })).status?.state).toBe('SANDBOX_NOTREADY');
  });

  it('can be switched off: no CNI call, pods still get a loopback address', async () => {
    const { fake, cri } = await setup({ cniNetwork: false });
    const { podSandboxId } = await cri.runPodSandbox({ config: config('plain') });
    await cri.stopPodSandbox({ podSandboxId });
    expect(fake.runtime.podIp(podSandboxId)).toMatch(/^127\./);
    expect(fake.journal.entries((e) => e.source === 'cni')).toEqual([]);
  });
});
