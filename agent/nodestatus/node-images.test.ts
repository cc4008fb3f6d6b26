import { afterEach, describe, expect, it } from 'vitest';
import type { V1Node } from '@kubernetes/client-node';
import { kubeClientsFromString } from '../api/kube-client.js';
import { startEmbeddedNode, type EmbeddedNode } from '../embedded-node.js';

let node: EmbeddedNode | undefined;
afterEach(async () => {
  await node?.close();
  node = undefined;
});

async function nodeWhere(n: EmbeddedNode, ok: (node: V1Node) => boolean, timeoutMs = 10_000): Promise<V1Node> {
  const { core } = kubeClientsFromString(n.api.kubeconfig());
  const deadline = Date.now() + timeoutMs;
  let last: V1Node | undefined;
  while (Date.now() < deadline) {
    last = await core.readNode({ name: 'harness-node' });
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`node status never matched; images: ${JSON.stringify(last?.status?.images)}`);
}

describe('node.status.images on the fake runtime', () => {
  it('reports the runtime images largest first, named by digest then tag, cut to nodeStatusMaxImages', async () => {
    node = await startEmbeddedNode({ configOverrides: { nodeStatusMaxImages: 2, nodeStatusUpdateFrequency: 100 } });
    const refs = ['registry.local/small:1', 'registry.local/medium:1', 'registry.local/large:1'];
    for (const image of refs) await node.kubelet.cri.pullImage({ image: { image } });
    const { images } = await node.kubelet.cri.listImages({});
    const expected = [...images]
      .sort((a, b) => (BigInt(b.size) > BigInt(a.size) ? 1 : BigInt(b.size) < BigInt(a.size) ? -1 : b.id > a.id ? 1 : -1))
      .slice(0, 2)
      .map((i) => ({ names: [...i.repoDigests, ...i.repoTags], sizeBytes: Number(i.size) }));
    expect(images.length).toBeGreaterThanOrEqual(3);
    const got = await nodeWhere(node, (n) => JSON.stringify(n.status?.images) === JSON.stringify(expected));
    expect(got.status?.images).toHaveLength(2);
    const [first, second] = got.status!.images!;
    expect(first!.sizeBytes!).toBeGreaterThanOrEqual(second!.sizeBytes!);
    expect(first!.names![0]).toMatch(/@sha256:/);

    // An image removed from the runtime leaves the node status at the next update.
    const removed = got.status!.images![0]!.names!.find((n) => !n.includes('@'))!;
    await node.kubelet.cri.removeImage({ image: { image: removed } });
    await nodeWhere(node, (n) => !(n.status?.images ?? []).some((i) => i.names?.includes(removed)));
  });
});
