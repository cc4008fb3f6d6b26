import { createHash } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { validatePodForKubelet } from '../admission/validate-pod.js';
import { CONFIG_HASH_ANNOTATION, CONFIG_SOURCE_ANNOTATION } from '../kuberuntime/pod-helpers.js';
import { defaultPodRequests } from '../resources/api-defaults.js';

/**
 * A static pod manifest turned into the pod the kubelet runs (upstream pkg/kubelet/config/common.go
 * applyDefaults + file.go): name suffixed with the node name, namespace default, spec.nodeName set, a
 * UID hashed from the content, node and file (so any change is a new pod), the config annotations,
 * API request defaulting; invalid manifests are rejected naming the field.
 */

export type ManifestResult = { readonly pod: V1Pod } | { readonly error: string };

export function staticPodUid(canonicalJson: string, nodeName: string, source: string): string {
  return createHash('md5').update(canonicalJson).update(`host:${nodeName}`).update(`file:${source}`).digest('hex');
}

export function parseStaticPodManifest(text: string, source: string, nodeName: string): ManifestResult {
  let docs;
  try {
    docs = parseAllDocuments(text);
  } catch (e) {
    return { error: `${source}: ${(e as Error).message}` };
  }
  const list = (Array.isArray(docs) ? docs : [docs]).filter((d) => d.contents !== null || d.errors.length > 0);
  if (list.length !== 1) return { error: `${source}: expected one pod manifest, found ${list.length} documents` };
  const doc = list[0]!;
  if (doc.errors.length > 0) return { error: `${source}: invalid YAML: ${doc.errors[0]!.message.split('\n')[0]}` };
  const raw = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { error: `${source}: the manifest is not an object` };
  const obj = raw as Record<string, unknown>;
  if (obj['kind'] !== 'Pod') return { error: `${source}: kind: must be "Pod", got ${JSON.stringify(obj['kind'] ?? null)}` };
  if (obj['apiVersion'] !== 'v1') return { error: `${source}: apiVersion: must be "v1", got ${JSON.stringify(obj['apiVersion'] ?? null)}` };
  const pod = structuredClone(obj) as V1Pod;
  const name = pod.metadata?.name;
  if (typeof name !== 'string' || name === '') return { error: `${source}: metadata.name: Required value` };
  const invalid = validatePodForKubelet(pod);
  if (invalid) return { error: `${source}: ${invalid}` };
  let defaulted: V1Pod;
  try {
    defaulted = defaultPodRequests(pod);
  } catch (e) {
    return { error: `${source}: ${(e as Error).message}` };
  }
  const uid = pod.metadata?.uid || staticPodUid(JSON.stringify(obj), nodeName, source);
  defaulted.metadata = {
    ...defaulted.metadata,
    name: `${name}-${nodeName}`,
    namespace: defaulted.metadata?.namespace || 'default',
    uid,
    annotations: { ...(defaulted.metadata?.annotations ?? {}), [CONFIG_HASH_ANNOTATION]: uid, [CONFIG_SOURCE_ANNOTATION]: 'file' },
  };
  defaulted.spec = { ...defaulted.spec!, nodeName, restartPolicy: defaulted.spec?.restartPolicy ?? 'Always' };
  defaulted.status = { phase: 'Pending' };
  return { pod: defaulted };
}
