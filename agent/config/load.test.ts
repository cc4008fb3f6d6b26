import { describe, expect, it } from 'vitest';
import { DEFAULT_EVICTION_HARD } from '../eviction/defaults.js';
import { loadKubeletConfig, parseKubeletArgs } from './index.js';

const HEADER = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n';

describe('loadKubeletConfig defaults', () => {
  it('gives the upstream v1beta1 defaults when nothing is set', () => {
    const { config, errors, warnings, settings } = loadKubeletConfig({});
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      cgroupDriver: 'cgroupfs',
      maxPods: 110,
      podPidsLimit: -1,
      evictionHard: DEFAULT_EVICTION_HARD,
      evictionSoft: {},
      evictionSoftGracePeriod: {},
      evictionMinimumReclaim: {},
      evictionPressureTransitionPeriod: 300_000,
      kubeReserved: {},
      systemReserved: {},
      enforceNodeAllocatable: ['pods'],
      containerLogMaxSize: '10Mi',
      containerLogMaxFiles: 5,
      staticPodPath: '',
      syncFrequency: 60_000,
      nodeStatusUpdateFrequency: 10_000,
      nodeStatusReportFrequency: 300_000,
      nodeLeaseDurationSeconds: 40,
      healthzPort: 10248,
      healthzBindAddress: '127.0.0.1',
      port: 10250,
      runtimeRequestTimeout: 120_000,
      podLogsDir: '/var/log/pods',
      containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
      cgroupsPerQOS: true,
      serializeImagePulls: true,
      cpuCFSQuotaPeriod: 100,
      imageGCHighThresholdPercent: 85,
      imageGCLowThresholdPercent: 80,
      failSwapOn: true,
    });
    expect(settings).toEqual({ rootDir: '/var/lib/kubelet' });
  });

  it('returns the parsed eviction thresholds, with the allocatable mirror of memory.available', () => {
    const { evictionThresholds } = loadKubeletConfig({ flags: { 'eviction-hard': 'memory.available<200Mi' } });
    expect(evictionThresholds.map((t) => [t.signal, t.value.quantity?.toString()])).toEqual([
      ['memory.available', '200Mi'],
      ['allocatableMemory.available', '200Mi'],
    ]);
  });

  it('reads a file over the defaults and keeps the defaults it does not set', () => {
    const { config, errors } = loadKubeletConfig({
      fileText: `${HEADER}maxPods: 30\ncgroupDriver: systemd\nsyncFrequency: 1m30s\nstaticPodPath: /etc/kubernetes/manifests\nkubeReserved:\n  cpu: 100m\n  memory: 1Gi\n`,
    });
    expect(errors).toEqual([]);
    expect(config.maxPods).toBe(30);
    expect(config.cgroupDriver).toBe('systemd');
    expect(config.syncFrequency).toBe(90_000);
    expect(config.staticPodPath).toBe('/etc/kubernetes/manifests');
    expect(config.kubeReserved).toEqual({ cpu: '100m', memory: '1Gi' });
    expect(config.nodeLeaseDurationSeconds).toBe(40);
  });

  it('treats an explicit zero in the file like an unset non-pointer field, as upstream defaulting does', () => {
    const { config } = loadKubeletConfig({ fileText: `${HEADER}maxPods: 0\nsyncFrequency: "0s"\n` });
    expect(config.maxPods).toBe(110);
    expect(config.syncFrequency).toBe(60_000);
  });

  it('lets nodeStatusReportFrequency follow an explicitly set nodeStatusUpdateFrequency', () => {
    expect(loadKubeletConfig({ fileText: `${HEADER}nodeStatusUpdateFrequency: 20s\n` }).config.nodeStatusReportFrequency).toBe(20_000);
    const both = loadKubeletConfig({ fileText: `${HEADER}nodeStatusUpdateFrequency: 20s\nnodeStatusReportFrequency: 1m\n` });
    expect(both.config.nodeStatusReportFrequency).toBe(60_000);
  });

  it('makes image pulls parallel by default when maxParallelImagePulls >= 2', () => {
    expect(loadKubeletConfig({ fileText: `${HEADER}maxParallelImagePulls: 3\n` }).config.serializeImagePulls).toBe(false);
    const conflicting = loadKubeletConfig({ fileText: `${HEADER}maxParallelImagePulls: 3\nserializeImagePulls: true\n` });
    expect(conflicting.errors).toEqual(['maxParallelImagePulls: cannot be larger than 1 unless serializeImagePulls is false']);
  });

  it('replaces the whole default evictionHard map when the file sets one, unless merging is asked for', () => {
    const replaced = loadKubeletConfig({ fileText: `${HEADER}evictionHard:\n  memory.available: 200Mi\n` });
    expect(replaced.config.evictionHard).toEqual({ 'memory.available': '200Mi' });
    const merged = loadKubeletConfig({
      fileText: `${HEADER}mergeDefaultEvictionSettings: true\nevictionHard:\n  memory.available: 200Mi\n`,
    });
    expect(merged.config.evictionHard).toEqual({ ...DEFAULT_EVICTION_HARD, 'memory.available': '200Mi' });
    const empty = loadKubeletConfig({ fileText: `${HEADER}evictionHard: {}\n` });
    expect(empty.config.evictionHard).toEqual({});
  });

  it('normalises a negative podPidsLimit to -1', () => {
    expect(loadKubeletConfig({ fileText: `${HEADER}podPidsLimit: -7\n` }).config.podPidsLimit).toBe(-1);
    expect(loadKubeletConfig({ fileText: `${HEADER}podPidsLimit: 1024\n` }).config.podPidsLimit).toBe(1024);
  });
});

describe('loadKubeletConfig flags', () => {
  it('lets flags override the file with kubelet flag syntax', () => {
    const { config, errors, settings } = loadKubeletConfig({
      fileText: `${HEADER}maxPods: 30\nkubeReserved:\n  cpu: 500m\n  memory: 2Gi\n  pid: "100"\n`,
      flags: {
        'max-pods': '50',
        'kube-reserved': 'cpu=100m,memory=1Gi',
        'system-reserved': 'memory=500Mi',
        'eviction-hard': 'memory.available<100Mi,nodefs.available<5%',
        'node-name': 'node-a',
        'runtime-endpoint': 'unix:///tmp/cri.sock',
        'sync-frequency': '30s',
        'fail-swap-on': false,
      },
    });
    expect(errors).toEqual([]);
    expect(config.maxPods).toBe(50);
    // A map flag replaces the file's map entirely.
    expect(config.kubeReserved).toEqual({ cpu: '100m', memory: '1Gi' });
    expect(config.systemReserved).toEqual({ memory: '500Mi' });
    expect(config.evictionHard).toEqual({ 'memory.available': '100Mi', 'nodefs.available': '5%' });
    expect(config.containerRuntimeEndpoint).toBe('unix:///tmp/cri.sock');
    expect(config.syncFrequency).toBe(30_000);
    expect(config.failSwapOn).toBe(false);
    expect(settings.nodeName).toBe('node-a');
  });

  it('keeps an explicit --max-pods=0 (flags come after defaulting)', () => {
    expect(loadKubeletConfig({ flags: { 'max-pods': '0' } }).config.maxPods).toBe(0);
  });

  it('merges --feature-gates over the file gates and accepts camelCase keys from commander', () => {
    const { config, errors } = loadKubeletConfig({
      fileText: `${HEADER}featureGates:\n  A: true\n  B: true\n`,
      flags: { featureGates: 'B=false,C=true', maxPods: 12, containerRuntimeEndpoint: 'unix:///x.sock' },
    });
    expect(errors).toEqual([]);
    expect(config.featureGates).toEqual({ A: true, B: false, C: true });
    expect(config.maxPods).toBe(12);
    expect(config.containerRuntimeEndpoint).toBe('unix:///x.sock');
  });

  it('accumulates a repeated map flag and parses argv in kubelet style', () => {
    const { flags, positional, errors } = parseKubeletArgs([
      '--kube-reserved', 'cpu=1',
      '--kube-reserved=memory=1Gi',
      '--fail-swap-on',
      '--cgroups-per-qos=false',
      '--eviction-hard=memory.available<1Gi',
      'extra',
    ]);
    expect(errors).toEqual([]);
    expect(positional).toEqual(['extra']);
    const loaded = loadKubeletConfig({ flags });
    expect(loaded.config.kubeReserved).toEqual({ cpu: '1', memory: '1Gi' });
    expect(loaded.config.failSwapOn).toBe(true);
    expect(loaded.config.cgroupsPerQOS).toBe(false);
    // cgroupsPerQOS=false conflicts with the default enforceNodeAllocatable=[pods].
    expect(loaded.errors).toEqual(['cgroupsPerQOS: must be true when "pods" is in enforceNodeAllocatable']);
  });

  it('takes --node-ip and --node-labels as settings and warns about upstream flags it does not act on', () => {
    const { flags } = parseKubeletArgs(['-v=2', '--node-ip', '10.0.0.5', '--node-labels=zone=a,tier=web', '--node-labels', 'gpu=true', '--cert-dir=/x']);
    const { settings, errors, warnings } = loadKubeletConfig({ flags });
    expect(errors).toEqual([]);
    expect(settings).toMatchObject({ nodeIP: '10.0.0.5', nodeLabels: { zone: 'a', tier: 'web', gpu: 'true' } });
    expect(warnings).toEqual(['--v: accepted, but this kubelet does not act on it', '--cert-dir: accepted, but this kubelet does not act on it']);
  });

  it('reports malformed flag values and unknown flags naming them', () => {
    const { errors } = loadKubeletConfig({
      flags: { 'max-pods': 'many', 'kube-reserved': 'cpu', 'sync-frequency': '10', 'no-such-flag': '1', 'cgroup-driver': 'cgroupv3' },
    });
    expect(errors).toEqual([
      'maxPods (--max-pods): invalid integer "many"',
      'kubeReserved (--kube-reserved): malformed pair "cpu", expect string=string',
      'syncFrequency (--sync-frequency): time: missing unit in duration "10"',
      '--no-such-flag: unknown flag',
      'cgroupDriver (--cgroup-driver): unsupported value "cgroupv3": must be one of "cgroupfs", "systemd"',
    ]);
  });
});

describe('loadKubeletConfig rejects bad input naming the field', () => {
  const errorsOf = (body: string): string[] => loadKubeletConfig({ fileText: HEADER + body }).errors;

  it('rejects negative and out-of-range numbers', () => {
    expect(errorsOf('maxPods: -1\n')).toEqual(['maxPods: must not be a negative number (got -1)']);
    expect(errorsOf('healthzPort: 70000\n')).toEqual(['healthzPort: 70000 must be between 0 and 65535, inclusive']);
    expect(errorsOf('containerLogMaxFiles: 1\n')).toEqual(['containerLogMaxFiles: must be greater than 1']);
    expect(errorsOf('nodeLeaseDurationSeconds: -5\n')).toEqual(['nodeLeaseDurationSeconds: must be greater than 0']);
    expect(errorsOf('imageGCLowThresholdPercent: 90\n')).toEqual([
      'imageGCLowThresholdPercent: 90 must be less than imageGCHighThresholdPercent 85',
    ]);
  });

  it('takes nodeStatusMaxImages from the file or --node-status-max-images, 50 by default, and rejects values below -1', () => {
    expect(loadKubeletConfig({}).config.nodeStatusMaxImages).toBe(50);
    expect(loadKubeletConfig({ fileText: `${HEADER}nodeStatusMaxImages: -1\n` }).config.nodeStatusMaxImages).toBe(-1);
    expect(loadKubeletConfig({ fileText: `${HEADER}nodeStatusMaxImages: 0\n` }).config.nodeStatusMaxImages).toBe(0);
    expect(loadKubeletConfig({ flags: { 'node-status-max-images': '7' } }).config.nodeStatusMaxImages).toBe(7);
    expect(errorsOf('nodeStatusMaxImages: -2\n')).toEqual(['nodeStatusMaxImages: -2 must be -1 or greater']);
    expect(errorsOf('nodeStatusMaxImages: many\n')).toEqual(['nodeStatusMaxImages: must be an integer (got string "many")']);
  });

  it('rejects wrongly typed values', () => {
    expect(errorsOf('maxPods: "ten"\n')).toEqual(['maxPods: must be an integer (got string "ten")']);
    expect(errorsOf('syncFrequency: 10\n')).toEqual(['syncFrequency: must be a duration string such as "1m30s" (got number 10)']);
    expect(errorsOf('syncFrequency: 1x\n')).toEqual(['syncFrequency: time: unknown unit "x" in duration "1x"']);
    expect(errorsOf('cgroupDriver: cgroupv2\n')).toEqual(['cgroupDriver: unsupported value "cgroupv2": must be one of "cgroupfs", "systemd"']);
    expect(errorsOf('kubeReserved:\n  cpu: 1\n')).toEqual(['kubeReserved["cpu"]: must be a string; quote it: "1" (got number 1)']);
    expect(errorsOf('enforceNodeAllocatable: pods\n')).toEqual(['enforceNodeAllocatable: must be a list of strings (got string "pods")']);
  });

  it('rejects bad quantities and unreservable resources', () => {
    expect(errorsOf('kubeReserved:\n  memory: 1GB\n')[0]).toMatch(/^kubeReserved\["memory"\]: failed to parse quantity "1GB": /);
    expect(errorsOf('systemReserved:\n  memory: "-1Gi"\n')).toEqual(['systemReserved["memory"]: resource quantity cannot be negative: -1Gi']);
    expect(errorsOf('systemReserved:\n  nvidia.com/gpu: "1"\n')[0]).toMatch(/^systemReserved\["nvidia.com\/gpu"\]: cannot reserve "nvidia.com\/gpu" resource/);
    expect(errorsOf('containerLogMaxSize: ten\n')[0]).toMatch(/^containerLogMaxSize: invalid quantity "ten"/);
  });

  it('rejects unsupported eviction signals and bad thresholds', () => {
    expect(errorsOf('evictionHard:\n  memory.availabel: 100Mi\n')).toEqual([
      'evictionHard["memory.availabel"]: unsupported eviction signal memory.availabel',
    ]);
    expect(errorsOf('evictionHard:\n  memory.available: "0"\n')).toEqual([
      'evictionHard["memory.available"]: eviction threshold memory.available must be positive: 0',
    ]);
    expect(errorsOf('evictionMinimumReclaim:\n  memory.available: 0%\n')[0]).toMatch(/^evictionMinimumReclaim\["memory.available"\]: .*must be positive/);
    expect(errorsOf('evictionSoft:\n  memory.available: 1Gi\n')[0]).toMatch(/grace period must be specified/);
    const flagged = loadKubeletConfig({ flags: { 'eviction-hard': 'memory.availabel<100Mi' } });
    expect(flagged.errors).toEqual(['evictionHard["memory.availabel"]: unsupported eviction signal memory.availabel']);
  });

  it('rejects enforceNodeAllocatable keys kubelet rejects', () => {
    expect(errorsOf('enforceNodeAllocatable: [pods, pods]\n')).toEqual(['enforceNodeAllocatable: duplicated enforcement "pods"']);
    expect(errorsOf('enforceNodeAllocatable: [pods, kube-reserved]\n')).toEqual([
      'kubeReservedCgroup: must be specified when "kube-reserved" is in enforceNodeAllocatable',
    ]);
    expect(errorsOf('enforceNodeAllocatable: [none, pods]\n')).toContain(
      'enforceNodeAllocatable: may not contain additional enforcements when "none" is specified',
    );
  });

  it('rejects a wrong apiVersion or kind, invalid YAML and several documents', () => {
    expect(loadKubeletConfig({ fileText: 'apiVersion: v1\nkind: KubeletConfiguration\n' }).errors).toEqual([
      'apiVersion: must be kubelet.config.k8s.io/v1beta1 (got "v1")',
    ]);
    expect(loadKubeletConfig({ fileText: 'apiVersion: kubelet.config.k8s.io/v1beta1\n' }).errors).toEqual([
      'kind: must be KubeletConfiguration (missing)',
    ]);
    expect(loadKubeletConfig({ fileText: `${HEADER}maxPods: [1\n` }).errors[0]).toMatch(/^\(file\): invalid YAML/);
    expect(loadKubeletConfig({ fileText: `${HEADER}---\n${HEADER}` }).errors).toEqual(['(file): expected one YAML document, found 2']);
    expect(loadKubeletConfig({ fileText: '' }).errors).toEqual(['kind: missing; expected KubeletConfiguration']);
  });

  it('reports unknown fields as warnings and ignores known upstream fields it does not model', () => {
    const { errors, warnings } = loadKubeletConfig({
      fileText: `${HEADER}maxPod: 10\nauthentication:\n  anonymous:\n    enabled: false\ntlsCertFile: /x\n`,
    });
    expect(errors).toEqual([]);
    expect(warnings).toEqual(['maxPod: unknown field "maxPod"']);
  });

  it('reports every problem, not only the first', () => {
    expect(errorsOf('maxPods: -1\ncontainerLogMaxFiles: 0\nport: 0\nhealthzBindAddress: localhost\n')).toEqual([
      'maxPods: must not be a negative number (got -1)',
      'healthzBindAddress: "localhost" is not an IP address',
      'containerLogMaxFiles: must be greater than 1',
    ]);
  });
});
