import type { V1Volume } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { classifyPodVolumes } from './pod-volumes.js';

const classify = (volumes: unknown[]) =>
  classifyPodVolumes({ metadata: { uid: 'u' }, spec: { containers: [], volumes: volumes as V1Volume[] } });

describe('classifying pod volumes', () => {
  it('assigns each supported source its kind', () => {
    const { volumes, problems } = classify([
      { name: 'a', emptyDir: { medium: 'Memory' } },
      { name: 'b', hostPath: { path: '/var/log', type: 'Directory' } },
      { name: 'c', configMap: { name: 'x' } },
      { name: 'd', secret: { secretName: 'y' } },
      { name: 'e', csi: { driver: 'd.example.com' } },
      { name: 'f', persistentVolumeClaim: { claimName: 'z' } },
    ]);
    expect(problems).toEqual([]);
    expect(volumes.map((v) => [v.volume.name, v.kind, v.field])).toEqual([
      ['a', 'emptyDir', 'spec.volumes[0]'],
      ['b', 'hostPath', 'spec.volumes[1]'],
      ['c', 'configMap', 'spec.volumes[2]'],
      ['d', 'secret', 'spec.volumes[3]'],
      ['e', 'csi', 'spec.volumes[4]'],
      ['f', 'persistentVolumeClaim', 'spec.volumes[5]'],
    ]);
  });

  it('names the field of every malformed volume', () => {
    const { volumes, problems } = classify([
      { name: 'Bad_Name', emptyDir: {} },
      { name: 'none' },
      { name: 'two', emptyDir: {}, hostPath: { path: '/x' } },
      { name: 'nfs', nfs: { server: 's', path: '/' } },
      { name: 'odd', fancyVolume: {} },
      { name: 'hp', hostPath: { path: '/x/../etc' } },
      { name: 'hpt', hostPath: { path: '/x', type: 'Dir' } },
      { name: 'cm', configMap: {} },
      { name: 'med', emptyDir: { medium: 'Disk' } },
      { name: 'ok', emptyDir: {} },
      { name: 'ok', emptyDir: {} },
    ]);
    expect(volumes.map((v) => v.volume.name)).toEqual(['ok']);
    expect(problems.map((p) => `${p.field}: ${p.message}`)).toEqual([
      'spec.volumes[0].name: invalid volume name "Bad_Name": must be a DNS label',
      'spec.volumes[1]: must specify a volume type',
      'spec.volumes[2]: may not specify more than 1 volume type (found emptyDir, hostPath)',
      'spec.volumes[3].nfs: volume type nfs is not supported by this kubelet (supported: emptyDir, hostPath, configMap, secret, downwardAPI, projected, csi, persistentVolumeClaim)',
      'spec.volumes[4].fancyVolume: unknown volume type',
      "spec.volumes[5].hostPath.path: must not contain '..'",
      'spec.volumes[6].hostPath.type: unsupported value "Dir"',
      'spec.volumes[7].configMap.name: required',
      'spec.volumes[8].emptyDir.medium: unsupported value "Disk"',
      'spec.volumes[10].name: duplicate volume name "ok"',
    ]);
  });
});
