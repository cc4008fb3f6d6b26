import { describe, expect, it } from 'vitest';
import { loadCriProto, loadCsiProto } from './proto.js';

const CRI_RUNTIME_RPCS = [
  'Version', 'RunPodSandbox', 'StopPodSandbox', 'RemovePodSandbox', 'PodSandboxStatus', 'ListPodSandbox',
  'StreamPodSandboxes', 'CreateContainer', 'StartContainer', 'StopContainer', 'RemoveContainer', 'ListContainers',
  'StreamContainers', 'ContainerStatus', 'UpdateContainerResources', 'ReopenContainerLog', 'ExecSync', 'Exec',
  'Attach', 'PortForward', 'ContainerStats', 'ListContainerStats', 'StreamContainerStats', 'PodSandboxStats',
  'ListPodSandboxStats', 'StreamPodSandboxStats', 'UpdateRuntimeConfig', 'Status', 'CheckpointContainer',
  'CheckpointPod', 'RestorePod', 'GetContainerEvents', 'ListMetricDescriptors', 'ListPodSandboxMetrics',
  'StreamPodSandboxMetrics', 'RuntimeConfig', 'UpdatePodSandboxResources',
];

describe('proto loading', () => {
  it('exposes every CRI RuntimeService and ImageService method under the upstream paths', () => {
    const cri = loadCriProto();
    const runtime = cri.RuntimeService.service;
    expect(Object.keys(runtime).sort()).toEqual([...CRI_RUNTIME_RPCS].sort());
    expect(runtime.Version.path).toBe('/runtime.v1.RuntimeService/Version');
    expect(runtime.GetContainerEvents.responseStream).toBe(true);
    expect(runtime.ExecSync.responseStream).toBe(false);
    expect(Object.keys(cri.ImageService.service).sort()).toEqual(
      ['ImageFsInfo', 'ImageStatus', 'ListImages', 'PullImage', 'RemoveImage', 'StreamImages'],
    );
    expect(cri.ImageService.service.PullImage.path).toBe('/runtime.v1.ImageService/PullImage');
  });

  it('encodes CRI messages with the upstream field numbers and reads int64 nanoseconds without precision loss', () => {
    const cri = loadCriProto();
    const method = cri.RuntimeService.service.ContainerStatus;
    // ContainerStatusResponse.status (1) -> ContainerStatus.finished_at (6, int64) and exit_code (7, int32).
    const nanos = '1795000000123456789';
    const bytes = method.responseSerialize({ status: { id: 'c1', finishedAt: nanos, exitCode: 3, state: 'CONTAINER_EXITED' } });
    // Hand-decoded prefix: field 1, wire type 2 (0x0a), then the nested message starting with id (field 1).
    expect(bytes[0]).toBe(0x0a);
    const decoded = method.responseDeserialize(bytes);
    expect(decoded.status?.finishedAt).toBe(nanos);
    expect(decoded.status?.exitCode).toBe(3);
    expect(decoded.status?.state).toBe('CONTAINER_EXITED');
    expect(decoded.status?.startedAt).toBe('0');
    expect(decoded.status?.labels).toEqual({});
  });

  it('exposes the CSI services and keeps oneof discriminators', () => {
    const csi = loadCsiProto();
    expect(Object.keys(csi.Identity.service).sort()).toEqual(['GetPluginCapabilities', 'GetPluginInfo', 'Probe']);
    expect(Object.keys(csi.Node.service)).toHaveLength(8);
    expect(Object.keys(csi.Controller.service)).toHaveLength(15);
    expect(csi.Node.service.NodePublishVolume.path).toBe('/csi.v1.Node/NodePublishVolume');
    const method = csi.Node.service.NodePublishVolume;
    const bytes = method.requestSerialize({
      volumeId: 'v1',
      targetPath: '/mnt/t',
      volumeCapability: { mount: { fsType: 'ext4', mountFlags: [] }, accessMode: { mode: 'SINGLE_NODE_WRITER' } },
      readonly: false,
    });
    const decoded = method.requestDeserialize(bytes);
    expect(decoded.volumeCapability?.accessType).toBe('mount');
    expect(decoded.volumeCapability?.mount?.fsType).toBe('ext4');
    expect(decoded.volumeCapability?.accessMode?.mode).toBe('SINGLE_NODE_WRITER');
  });
});
