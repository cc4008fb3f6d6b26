import type { V1Pod, V1Volume } from '@kubernetes/client-node';
import { isHostPathType } from './host-path.js';
import { PLUGIN, type PluginName } from './paths.js';

/** The source kinds this kubelet can set up; anything else in a pod spec is refused naming the field. */
export type VolumeKind = 'emptyDir' | 'hostPath' | 'configMap' | 'secret' | 'downwardAPI' | 'projected' | 'csi' | 'persistentVolumeClaim';

const SUPPORTED: readonly VolumeKind[] = ['emptyDir', 'hostPath', 'configMap', 'secret', 'downwardAPI', 'projected', 'csi', 'persistentVolumeClaim'];

/** Every volume source field of V1Volume, to tell "unsupported" from "unknown" kinds. */
const ALL_SOURCES = [
  'awsElasticBlockStore', 'azureDisk', 'azureFile', 'cephfs', 'cinder', 'configMap', 'csi', 'downwardAPI', 'emptyDir',
  'ephemeral', 'fc', 'flexVolume', 'flocker', 'gcePersistentDisk', 'gitRepo', 'glusterfs', 'hostPath', 'image', 'iscsi',
  'nfs', 'persistentVolumeClaim', 'photonPersistentDisk', 'portworxVolume', 'projected', 'quobyte', 'rbd', 'scaleIO',
  'secret', 'storageos', 'vsphereVolume',
];

export interface ClassifiedVolume {
  volume: V1Volume;
  index: number;
  kind: VolumeKind;
  /** `spec.volumes[i]`, the prefix of every field this volume's errors name. */
  field: string;
}

export interface VolumeSpecProblem {
  volumeName: string;
  field: string;
  message: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Checks a pod's volumes the way API validation and kubelet plugin selection would and says which
 * plugin handles each. Pure: no I/O. Problems (duplicate names, no or several sources, unsupported
 * kinds, malformed required fields) are returned, naming the field.
 */
export function classifyPodVolumes(pod: V1Pod): { volumes: ClassifiedVolume[]; problems: VolumeSpecProblem[] } {
  const volumes: ClassifiedVolume[] = [];
  const problems: VolumeSpecProblem[] = [];
  const seen = new Set<string>();
  (pod.spec?.volumes ?? []).forEach((volume, index) => {
    const field = `spec.volumes[${index}]`;
    const name = volume.name ?? '';
    const problem = (f: string, message: string): void => {
      problems.push({ volumeName: name, field: f, message });
    };
    if (!DNS_LABEL.test(name) || name.length > 63) return problem(`${field}.name`, `invalid volume name ${JSON.stringify(name)}: must be a DNS label`);
    if (seen.has(name)) return problem(`${field}.name`, `duplicate volume name ${JSON.stringify(name)}`);
    seen.add(name);
    const sources = ALL_SOURCES.filter((s) => (volume as unknown as Record<string, unknown>)[s] != null);
    const extra = Object.keys(volume).filter((k) => k !== 'name' && !ALL_SOURCES.includes(k));
    if (extra.length > 0 && sources.length === 0) return problem(`${field}.${extra[0]}`, 'unknown volume type');
    if (sources.length === 0) return problem(field, 'must specify a volume type');
    if (sources.length > 1) return problem(field, `may not specify more than 1 volume type (found ${sources.join(', ')})`);
    const kind = sources[0] as string;
    if (!(SUPPORTED as readonly string[]).includes(kind)) {
      return problem(`${field}.${kind}`, `volume type ${kind} is not supported by this kubelet (supported: ${SUPPORTED.join(', ')})`);
    }
    const fieldProblem = checkSource(volume, kind as VolumeKind, `${field}.${kind}`);
    if (fieldProblem) return problem(fieldProblem.field, fieldProblem.message);
    volumes.push({ volume, index, kind: kind as VolumeKind, field });
  });
  return { volumes, problems };
}

function checkSource(v: V1Volume, kind: VolumeKind, field: string): { field: string; message: string } | undefined {
  switch (kind) {
    case 'hostPath': {
      const path = v.hostPath?.path ?? '';
      if (path === '') return { field: `${field}.path`, message: 'required' };
      if (path.split('/').includes('..')) return { field: `${field}.path`, message: "must not contain '..'" };
      const type = v.hostPath?.type ?? '';
      if (!isHostPathType(type)) return { field: `${field}.type`, message: `unsupported value ${JSON.stringify(type)}` };
      return undefined;
    }
    case 'configMap':
      return v.configMap?.name ? undefined : { field: `${field}.name`, message: 'required' };
    case 'secret':
      return v.secret?.secretName ? undefined : { field: `${field}.secretName`, message: 'required' };
    case 'csi':
      return v.csi?.driver ? undefined : { field: `${field}.driver`, message: 'required' };
    case 'persistentVolumeClaim':
      return v.persistentVolumeClaim?.claimName ? undefined : { field: `${field}.claimName`, message: 'required' };
    case 'downwardAPI':
    case 'projected':
      return undefined; // item-level problems surface when the payload is built
    case 'emptyDir': {
      const medium = v.emptyDir?.medium ?? '';
      if (medium !== '' && medium !== 'Memory' && !medium.startsWith('HugePages')) {
        return { field: `${field}.medium`, message: `unsupported value ${JSON.stringify(medium)}` };
      }
      return undefined;
    }
  }
}

export function pluginOfKind(kind: Exclude<VolumeKind, 'persistentVolumeClaim'>): PluginName {
  return PLUGIN[kind];
}
