import assert from 'node:assert/strict';
import { isIPv4 } from 'node:net';
import type { PodSandbox__Output } from '../../proto/generated/cri/runtime/v1/PodSandbox.js';
import { defineSuite } from '../framework/spec.js';
import type { SpecContext } from '../framework/spec.js';
import type { PodSandboxFilter } from '../../proto/generated/cri/runtime/v1/PodSandboxFilter.js';
import { expectCriError, NANOS_PER_MS, nanos, runSandbox } from './support.js';

async function listIds(ctx: SpecContext, filter: PodSandboxFilter): Promise<string[]> {
  const { items } = await ctx.cri.listPodSandbox({ filter });
  return items.map((s: PodSandbox__Output) => s.id).sort();
}

export const sandboxesSuite = defineSuite('cri/sandbox', [
  {
    title: 'RunPodSandbox starts a READY sandbox with a pod IP from the pod network',
    divergence: { fake: 'pod IPs are per-sandbox loopback addresses (127.x.y.z), not a bridge network' },
    run: async (ctx) => {
      const sandbox = await runSandbox(ctx);
      const { status } = await ctx.cri.podSandboxStatus({ podSandboxId: sandbox.id });
      assert.ok(status, 'PodSandboxStatus returned no status');
      assert.equal(status.state, 'SANDBOX_READY');
      const ip = status.network?.ip ?? '';
      assert.ok(isIPv4(ip), `pod IP ${JSON.stringify(ip)} is not an IPv4 address`);
      if (ctx.target.kind === 'containerd') assert.ok(!ip.startsWith('127.'), `pod IP ${ip} is a loopback address`);
      ctx.log(`pod IP ${ip}`);
    },
  },
  {
    title: 'PodSandboxStatus reports the metadata, labels, annotations and creation time given',
    run: async (ctx) => {
      const before = BigInt(ctx.target.clock.now()) * NANOS_PER_MS;
      const sandbox = await runSandbox(ctx, { labels: { tier: 'web' }, annotations: { 'example.com/note': 'kept as given' } });
      const after = BigInt(ctx.target.clock.now()) * NANOS_PER_MS;
      const { status } = await ctx.cri.podSandboxStatus({ podSandboxId: sandbox.id });
      assert.ok(status);
      assert.equal(status.id, sandbox.id);
      assert.deepEqual(status.metadata, sandbox.config.metadata);
      assert.deepEqual(status.labels, sandbox.config.labels);
      assert.deepEqual(status.annotations, sandbox.config.annotations);
      const createdAt = nanos(status.createdAt);
      // A second of slack for clocks read in different processes.
      assert.ok(createdAt >= before - 1_000n * NANOS_PER_MS && createdAt <= after + 1_000n * NANOS_PER_MS,
        `createdAt ${createdAt} outside [${before}, ${after}] (nanoseconds)`);
    },
  },
  {
    title: 'ListPodSandbox filters by id, state and label selector',
    run: async (ctx) => {
      const run = ctx.uniqueName('list');
      const a = await runSandbox(ctx, { labels: { run, app: 'a' } });
      const b = await runSandbox(ctx, { labels: { run, app: 'b' } });
      assert.deepEqual(await listIds(ctx, { labelSelector: { run } }), [a.id, b.id].sort());
      assert.deepEqual(await listIds(ctx, { labelSelector: { run, app: 'a' } }), [a.id]);
      assert.deepEqual(await listIds(ctx, { labelSelector: { run, app: 'c' } }), []);
      assert.deepEqual(await listIds(ctx, { id: b.id }), [b.id]);
      assert.deepEqual(await listIds(ctx, { id: `${b.id}-does-not-exist` }), []);

      await ctx.cri.stopPodSandbox({ podSandboxId: b.id });
      assert.deepEqual(await listIds(ctx, { labelSelector: { run }, state: { state: 'SANDBOX_READY' } }), [a.id]);
      assert.deepEqual(await listIds(ctx, { labelSelector: { run }, state: { state: 'SANDBOX_NOTREADY' } }), [b.id]);

      const { items } = await ctx.cri.listPodSandbox({ filter: { id: a.id } });
      const [item] = items;
      assert.ok(item);
      assert.deepEqual(item.metadata, a.config.metadata);
      assert.deepEqual(item.labels, a.config.labels);
      assert.equal(item.state, 'SANDBOX_READY');
      assert.ok(nanos(item.createdAt) > 0n);
    },
  },
  {
    title: 'StopPodSandbox and RemovePodSandbox are idempotent',
    run: async (ctx) => {
      const sandbox = await runSandbox(ctx);
      await ctx.cri.stopPodSandbox({ podSandboxId: sandbox.id });
      await ctx.cri.stopPodSandbox({ podSandboxId: sandbox.id });
      const { status } = await ctx.cri.podSandboxStatus({ podSandboxId: sandbox.id });
      assert.equal(status?.state, 'SANDBOX_NOTREADY');
      await ctx.cri.removePodSandbox({ podSandboxId: sandbox.id });
      await ctx.cri.removePodSandbox({ podSandboxId: sandbox.id });
      await expectCriError(ctx.cri.podSandboxStatus({ podSandboxId: sandbox.id }), 'NotFound');
      assert.deepEqual(await listIds(ctx, { id: sandbox.id }), []);
    },
  },
]);
