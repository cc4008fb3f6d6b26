import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockApiServer, type MockApiServer } from './server.js';

/**
 * kubectl as a person would use it, against the mock API server: a child process with a kubeconfig,
 * asserting on what it prints. The binary is $KUBECTL or /usr/bin/kubectl; without one these tests
 * fail (they never skip) and say how to get it.
 */
const run = promisify(execFile);
const KUBECTL = process.env['KUBECTL'] ?? '/usr/bin/kubectl';

let server: MockApiServer;
let dir: string;
let kubeconfig: string;

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run(KUBECTL, args, { env: { ...process.env, KUBECONFIG: kubeconfig }, timeout: 15_000 });
  return stdout;
}

function lines(text: string): string[][] {
  return text.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
}

beforeAll(async () => {
  if (!existsSync(KUBECTL)) {
    throw new Error(
      `kubectl not found at ${KUBECTL}: set KUBECTL or install it (Debian: apt-get install kubernetes-client) to run these tests`,
    );
  }
  dir = await mkdtemp(join(tmpdir(), 'mock-apiserver-kubectl-'));
  kubeconfig = join(dir, 'kubeconfig');
  server = await startMockApiServer({ kubeconfigPath: kubeconfig });
  const r = server.registry;
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  r.create(r.type('', 'nodes'), '', {
    metadata: { name: 'node-a', labels: { 'node-role.kubernetes.io/worker': '', 'kubernetes.io/hostname': 'node-a' } },
    status: {
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }],
      addresses: [{ type: 'InternalIP', address: '10.0.0.5' }, { type: 'Hostname', address: 'node-a' }],
      capacity: { cpu: '4', memory: '8Gi', pods: '110' },
      nodeInfo: {
        kubeletVersion: 'v1.32.0-harness', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0-test',
        containerRuntimeVersion: 'containerd://1.6.20', architecture: 'amd64', operatingSystem: 'linux',
        machineID: 'machine-a', systemUUID: 'uuid-a', bootID: 'boot-a', kubeProxyVersion: '',
      },
    },
  });
  r.create(r.type('', 'nodes'), '', { metadata: { name: 'node-b' }, spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'runtime down' }] } });
  const web = r.create(r.type('', 'pods'), 'default', {
    metadata: { name: 'web-1', labels: { app: 'web' } },
    spec: { nodeName: 'node-a', priorityClassName: 'system-node-critical', containers: [{ name: 'nginx', image: 'nginx:1.25', resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } } }] },
  });
  r.patch(r.type('', 'pods'), 'default', 'web-1', 'merge', {
    status: {
      phase: 'Running', podIP: '10.1.0.7',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: 'nginx', ready: true, started: true, restartCount: 3, image: 'nginx:1.25', imageID: '', state: { running: { startedAt: now } } }],
    },
  }, 'status');
  r.create(r.type('', 'namespaces'), '', { metadata: { name: 'batch' } });
  r.create(r.type('', 'pods'), 'batch', { metadata: { name: 'job-1' }, spec: { nodeName: 'node-b', restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } });
  r.patch(r.type('', 'pods'), 'batch', 'job-1', 'merge', { status: { phase: 'Pending', containerStatuses: [{ name: 'main', ready: false, restartCount: 0, image: 'busybox', imageID: '', state: { waiting: { reason: 'ErrImagePull' } } }] } }, 'status');
  r.create(r.type('', 'events'), 'default', {
    metadata: { name: 'web-1.pulled' },
    involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default', uid: web.object.metadata.uid ?? '' },
    reason: 'Pulled', message: 'Container image "nginx:1.25" already present on machine', type: 'Normal',
    source: { component: 'kubelet', host: 'node-a' }, firstTimestamp: now, lastTimestamp: now, count: 1,
  });
  r.create(r.type('coordination.k8s.io', 'leases'), 'kube-node-lease', {
    metadata: { name: 'node-a' },
    spec: { holderIdentity: 'node-a', leaseDurationSeconds: 40, renewTime: now.replace('Z', '.000000Z') },
  });
});

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('kubectl against the mock API server', () => {
  it('get nodes shows status, roles, age and version (and the wide columns)', async () => {
    const rows = lines(await kubectl('get', 'nodes'));
    expect(rows[0]).toEqual(['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
    expect(rows[1]).toEqual(['node-a', 'Ready', 'worker', expect.stringMatching(/^\d+s$/), 'v1.32.0-harness']);
    // An empty VERSION cell leaves only trailing spaces.
    expect(rows[2]).toEqual(['node-b', 'NotReady,SchedulingDisabled', '<none>', expect.stringMatching(/^\d+s$/)]);
    const wide = lines(await kubectl('get', 'nodes', '-o', 'wide'));
    expect(wide[0]).toEqual(['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION', 'INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME']);
    expect(wide[1]?.slice(5)).toEqual(['10.0.0.5', '<none>', 'Debian GNU/Linux 12 (bookworm)', '6.1.0-test', 'containerd://1.6.20']);
  });

  it('get pods -A -o wide lists every namespace with status, restarts, IP and node', async () => {
    const rows = lines(await kubectl('get', 'pods', '-A', '-o', 'wide'));
    expect(rows[0]).toEqual(['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    expect(rows.slice(1).map((r) => [r[0], r[1], r[2], r[3], r[4], r[6], r[7]])).toEqual([
      ['batch', 'job-1', '0/1', 'ErrImagePull', '0', '<none>', 'node-b'],
      ['default', 'web-1', '1/1', 'Running', '3', '10.1.0.7', 'node-a'],
    ]);
  });

  it('describe node shows conditions, addresses, capacity, the lease and the node\'s pods', async () => {
    const out = await kubectl('describe', 'node', 'node-a');
    expect(out).toMatch(/^Name:\s+node-a$/m);
    expect(out).toMatch(/^Roles:\s+worker$/m);
    expect(out).toMatch(/HolderIdentity:\s+node-a/);
    expect(out).toMatch(/Ready\s+True\s+.*KubeletReady\s+kubelet is posting ready status/);
    expect(out).toMatch(/InternalIP:\s+10\.0\.0\.5/);
    expect(out).toMatch(/Allocatable:\n\s+cpu:\s+4\n\s+memory:\s+8Gi/);
    expect(out).toMatch(/Container Runtime Version:\s+containerd:\/\/1\.6\.20/);
    expect(out).toMatch(/Non-terminated Pods:\s+\(1 in total\)/);
    expect(out).toMatch(/default\s+web-1\s+250m \(6%\)\s+500m \(12%\)\s+64Mi \(0%\)\s+128Mi \(1%\)/);
  });

  it('describe pod shows priority, QoS class, container state and the pod\'s events', async () => {
    const out = await kubectl('describe', 'pod', 'web-1');
    expect(out).toMatch(/^Priority:\s+2000001000$/m);
    expect(out).toMatch(/^Priority Class Name:\s+system-node-critical$/m);
    expect(out).toMatch(/^Node:\s+node-a\//m);
    expect(out).toMatch(/^Status:\s+Running$/m);
    expect(out).toMatch(/Restart Count:\s+3/);
    expect(out).toMatch(/^QoS Class:\s+Burstable$/m);
    expect(out).toMatch(/Normal\s+Pulled\s+\S+\s+kubelet\s+Container image "nginx:1\.25" already present on machine/);
  });

  it('get events and get leases show the standard columns', async () => {
    const events = lines(await kubectl('get', 'events'));
    expect(events[0]).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    expect(events[1]?.slice(1)).toEqual(['Normal', 'Pulled', 'pod/web-1', 'Container image "nginx:1.25" already present on machine']);
    const leases = lines(await kubectl('get', 'leases', '-n', 'kube-node-lease'));
    expect(leases[0]).toEqual(['NAME', 'HOLDER', 'AGE']);
    expect(leases[1]?.slice(0, 2)).toEqual(['node-a', 'node-a']);
  });

  it('get pods --watch prints a row for each change as it happens', async () => {
    const child = spawn(KUBECTL, ['get', 'pods', '--watch', '-n', 'batch'], { env: { ...process.env, KUBECONFIG: kubeconfig } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const waitFor = async (re: RegExp): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (!re.test(out)) {
        if (Date.now() > deadline) throw new Error(`kubectl --watch never printed ${re}; got:\n${out}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    try {
      await waitFor(/job-1\s+0\/1\s+ErrImagePull/);
      const r = server.registry;
      r.create(r.type('', 'pods'), 'batch', { metadata: { name: 'job-2' }, spec: { nodeName: 'node-a', containers: [{ name: 'main', image: 'busybox:1.36' }] } });
      await waitFor(/job-2\s+0\/1\s+Pending/);
      r.delete(r.type('', 'pods'), 'batch', 'job-2');
      await waitFor(/job-2\s+0\/1\s+Terminating/);
      const rows = lines(out);
      expect(rows[0]).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
      expect(rows.filter((row) => row[0] === 'NAME')).toHaveLength(1);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('apply -f creates a pod with validation on, and a re-apply with a changed label patches it', async () => {
    const manifest = (tier: string, sideImage: string): string =>
      [
        'apiVersion: v1', 'kind: Pod', 'metadata:', '  name: applied', '  namespace: default', `  labels: {app: applied, tier: ${tier}}`,
        'spec:', '  containers:', '  - name: main', '    image: busybox:1.36', '    env: [{name: A, value: "1"}]',
        '  - name: side', `    image: ${sideImage}`,
      ].join('\n');
    const file = join(dir, 'applied.yaml');
    await writeFile(file, manifest('front', 'busybox:1.36'));
    expect(await kubectl('apply', '-f', file)).toContain('pod/applied created');
    const r = server.registry;
    const first = r.get(r.type('', 'pods'), 'default', 'applied').object;
    expect(first.metadata.labels).toEqual({ app: 'applied', tier: 'front' });
    await writeFile(file, manifest('back', 'busybox:1.37'));
    expect(await kubectl('apply', '-f', file)).toContain('pod/applied configured');
    const second = r.get(r.type('', 'pods'), 'default', 'applied').object;
    expect(second.metadata.labels).toEqual({ app: 'applied', tier: 'back' });
    expect(second.metadata.uid).toBe(first.metadata.uid);
    // The strategic merge matched containers by name: only the side container's image changed.
    expect((second['spec'] as { containers: { name: string; image: string; env?: unknown }[] }).containers).toEqual([
      expect.objectContaining({ name: 'main', image: 'busybox:1.36', env: [{ name: 'A', value: '1' }] }),
      expect.objectContaining({ name: 'side', image: 'busybox:1.37' }),
    ]);
    expect(await kubectl('apply', '-f', file)).toContain('pod/applied unchanged');
  });

  it('create -f with an unknown field fails naming it, and --validate=false lets it through', async () => {
    const file = join(dir, 'typo.yaml');
    await writeFile(file, [
      'apiVersion: v1', 'kind: Pod', 'metadata: {name: typo, namespace: default}',
      'spec:', '  containers: [{name: main, image: busybox, imagePolicy: Always}]', '  restartPolicyy: Never',
    ].join('\n'));
    const failure = await kubectl('create', '-f', file).then(() => undefined, (err: unknown) => err as { stderr: string });
    expect(failure?.stderr).toContain('strict decoding error');
    expect(failure?.stderr).toContain('unknown field "spec.containers[0].imagePolicy"');
    expect(failure?.stderr).toContain('unknown field "spec.restartPolicyy"');
    const r = server.registry;
    expect(r.store.get('pods', 'default', 'typo')).toBeUndefined();
    expect(await kubectl('apply', '--validate=false', '-f', file)).toContain('pod/typo created');
    expect(r.get(r.type('', 'pods'), 'default', 'typo').object['spec']).toMatchObject({ restartPolicyy: 'Never' });
  });

  it('apply -f validates the other served kinds against their schemas too', async () => {
    const file = join(dir, 'others.yaml');
    await writeFile(file, [
      'apiVersion: v1', 'kind: Namespace', 'metadata: {name: applied-ns}', '---',
      'apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: cm1, namespace: default}', 'data: {a: b}', '---',
      'apiVersion: v1', 'kind: Secret', 'metadata: {name: s1, namespace: default}', 'stringData: {a: b}', '---',
      'apiVersion: scheduling.k8s.io/v1', 'kind: PriorityClass', 'metadata: {name: high}', 'value: 1000', '---',
      'apiVersion: coordination.k8s.io/v1', 'kind: Lease', 'metadata: {name: l1, namespace: default}', 'spec: {holderIdentity: me}',
    ].join('\n'));
    const out = await kubectl('apply', '-f', file);
    expect(out).toContain('namespace/applied-ns created');
    expect(out).toContain('configmap/cm1 created');
    expect(out).toContain('secret/s1 created');
    expect(out).toContain('priorityclass.scheduling.k8s.io/high created');
    expect(out).toContain('lease.coordination.k8s.io/l1 created');
    await writeFile(file, ['apiVersion: node.k8s.io/v1', 'kind: RuntimeClass', 'metadata: {name: rc}', 'handlr: runc'].join('\n'));
    await expect(kubectl('apply', '-f', file)).rejects.toMatchObject({ stderr: expect.stringContaining('unknown field "handlr"') });
  });

  it('reports API errors the way it does for a real cluster', async () => {
    await expect(kubectl('get', 'pod', 'nope')).rejects.toMatchObject({ stderr: expect.stringContaining('Error from server (NotFound): pods "nope" not found') });
    await expect(kubectl('get', 'pods', '-l', 'app in (a')).rejects.toMatchObject({ stderr: expect.stringMatching(/unable to parse requirement|couldn't parse/) });
  });
});
