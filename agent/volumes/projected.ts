import type { V1ConfigMap, V1Pod, V1ProjectedVolumeSource, V1Secret } from '@kubernetes/client-node';
import { downwardAPIPayload, type NodeAllocatable } from './downward-api.js';
import { ProjectionError, addFile, checkMode, configMapPayload, secretPayload, type Payload } from './projection.js';

/** The objects a projected volume's sources name, fetched beforehand (null = not found). */
export interface ProjectedObjects {
  configMaps: ReadonlyMap<string, V1ConfigMap | null>;
  secrets: ReadonlyMap<string, V1Secret | null>;
}

/** Names of the ConfigMaps and Secrets a projected volume needs. */
export function projectedReferences(source: V1ProjectedVolumeSource): { configMaps: string[]; secrets: string[] } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  for (const s of source.sources ?? []) {
    if (s.configMap?.name) configMaps.add(s.configMap.name);
    if (s.secret?.name) secrets.add(s.secret.name);
  }
  return { configMaps: [...configMaps], secrets: [...secrets] };
}

/**
 * Files of a projected volume: each source (configMap, secret, downwardAPI) projected with the
 * volume's defaultMode into one directory; two sources writing one path is an error. Service account
 * tokens need the TokenRequest API, which this kubelet does not have, so they are refused by name.
 */
export function projectedPayload(
  pod: V1Pod,
  source: V1ProjectedVolumeSource,
  objects: ProjectedObjects,
  field: string,
  allocatable?: NodeAllocatable,
): Payload {
  const defaultMode = checkMode(source.defaultMode, `${field}.defaultMode`);
  const payload: Payload = new Map();
  const merge = (part: Payload, at: string): void => {
    for (const [path, file] of part) addFile(payload, path, file.data, file.mode, at);
  };
  (source.sources ?? []).forEach((s, i) => {
    const at = `${field}.sources[${i}]`;
    const kinds = Object.keys(s).filter((k) => (s as Record<string, unknown>)[k] != null);
    if (kinds.length !== 1) throw new ProjectionError('exactly one projection source is required', { field: at });
    if (s.configMap) {
      const name = s.configMap.name ?? '';
      merge(configMapPayload({ ...s.configMap, ...(defaultMode === undefined ? {} : { defaultMode }) }, objects.configMaps.get(name) ?? null, `${at}.configMap`), at);
    } else if (s.secret) {
      const name = s.secret.name ?? '';
      merge(
        secretPayload(
          { secretName: name, items: s.secret.items, optional: s.secret.optional, ...(defaultMode === undefined ? {} : { defaultMode }) },
          objects.secrets.get(name) ?? null,
          `${at}.secret`,
        ),
        at,
      );
    } else if (s.downwardAPI) {
      merge(downwardAPIPayload(pod, s.downwardAPI.items ?? [], defaultMode, `${at}.downwardAPI`, allocatable), at);
    } else {
      throw new ProjectionError(`${kinds[0]} projections are not supported by this kubelet (it has no TokenRequest or trust bundle source)`, {
        field: `${at}.${kinds[0]}`,
      });
    }
  });
  return payload;
}
