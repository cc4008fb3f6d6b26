import { describe, expect, it } from 'vitest';
import { parseStaticPodManifest } from './manifest.js';

const manifest = `apiVersion: v1
kind: Pod
metadata:
  name: etcd
  namespace: kube-system
spec:
  containers:
  - name: etcd
    image: registry.local/etcd:3.5
    resources:
      limits: {cpu: "1", memory: 1Gi}
`;

describe('parseStaticPodManifest', () => {
  it('names the pod after the node, hashes a UID and marks it as a file-sourced static pod', () => {
    const r = parseStaticPodManifest(manifest, '/etc/kubernetes/manifests/etcd.yaml', 'node-a');
    if (!('pod' in r)) throw new Error(r.error);
    expect(r.pod.metadata?.name).toBe('etcd-node-a');
    expect(r.pod.metadata?.namespace).toBe('kube-system');
    expect(r.pod.metadata?.uid).toMatch(/^[0-9a-f]{32}$/);
    expect(r.pod.metadata?.annotations).toMatchObject({ 'kubernetes.io/config.source': 'file', 'kubernetes.io/config.hash': r.pod.metadata?.uid });
    expect(r.pod.spec?.nodeName).toBe('node-a');
    expect(r.pod.spec?.containers[0]?.resources?.requests).toEqual({ cpu: '1', memory: '1Gi' });
  });

  it('gives a changed manifest a new UID and the same manifest the same UID', () => {
    const a = parseStaticPodManifest(manifest, 'f.yaml', 'n');
    const b = parseStaticPodManifest(manifest, 'f.yaml', 'n');
    const c = parseStaticPodManifest(manifest.replace('3.5', '3.6'), 'f.yaml', 'n');
    expect('pod' in a && 'pod' in b && a.pod.metadata?.uid === b.pod.metadata?.uid).toBe(true);
    expect('pod' in a && 'pod' in c && a.pod.metadata?.uid !== c.pod.metadata?.uid).toBe(true);
  });

  it('rejects malformed manifests naming the field', () => {
    expect(parseStaticPodManifest('kind: Pod\napiVersion: v1\nmetadata: {}\nspec: {containers: []}', 'x.yaml', 'n')).toEqual({ error: 'x.yaml: metadata.name: Required value' });
    expect(parseStaticPodManifest('kind: Deployment\napiVersion: apps/v1', 'x.yaml', 'n')).toEqual({ error: 'x.yaml: kind: must be "Pod", got "Deployment"' });
    const bad = manifest.replace('memory: 1Gi', 'memory: 1 GB');
    expect('error' in parseStaticPodManifest(bad, 'x.yaml', 'n') && (parseStaticPodManifest(bad, 'x.yaml', 'n') as { error: string }).error).toContain('spec.containers[0].resources.limits[memory]');
    expect(parseStaticPodManifest('a: [', 'x.yaml', 'n')).toMatchObject({ error: expect.stringContaining('x.yaml: invalid YAML') });
  });
});
