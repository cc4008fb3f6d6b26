import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createCriClient } from '../agent/runtime/cri-client.js';
import { packagePath } from '../agent/util/package-root.js';
import { sandboxBundles } from './containerd/force-cleanup.js';
import { overlaps } from './containerd/network-choice.js';
import { provisionContainerdTarget, type ProvisionedTarget, type RuntimeTeardownReport } from './environment.js';
import { howToProvide } from './system-deps.js';
import { diffSnapshots, takeHostSnapshot, type HostDiff } from './host/snapshot.js';
import { freeLoopbackPort } from './util/free-port.js';

/**
 * The real environment end to end: provision registry + containerd, run a pod (IP from the bridge, a port
 * mapping through portmap, a pod cgroup parent) with a busybox container that echoes, tear down, and check that
 * nothing the run created is left on the host. Needs root and the Debian packages (ci/install-system-deps.sh);
 * without them provisioning throws the instructions and this test fails.
 */
const logDir = mkdtempSync(join(tmpdir(), 'kubelet-harness-env-test-'));
afterAll(() => rmSync(logDir, { recursive: true, force: true }));

/**
 * Only what this run could have created: other runs on a shared machine (other test files, other users) may add
 * their own things meanwhile. Items are attributed by the run's identifiers (run dirs, bridge, pod uid, sandbox
 * and container ids); shared things that cannot be attributed (portmap's chains, shim socket hashes) are left to
 * the whole-run leak check of .ci/run.
 */
function attributable(diff: HostDiff, marks: readonly string[]): Partial<HostDiff> {
  const result: Partial<Record<keyof HostDiff, readonly string[]>> = {};
  for (const [key, items] of Object.entries(diff) as [keyof HostDiff, readonly string[]][]) {
    const mine = items.filter((item) => marks.some((mark) => item.includes(mark)));
    if (mine.length > 0) result[key] = mine;
  }
  return result;
}

describe('the provisioned containerd environment', () => {
  it('runs a pod on the bridge network (echo, and httpd behind a 127.0.0.1 port mapping), then leaves nothing behind', { timeout: 180_000 }, async () => {
    const before = takeHostSnapshot();
    const target: ProvisionedTarget = await provisionContainerdTarget();
    const containerd = target.containerd;
    expect(containerd).toBeDefined();
    if (!containerd) return;
    const podUid = randomUUID();
    const marks = [containerd.runDir, basename(containerd.runDir), target.registry.workDir, basename(target.registry.workDir), containerd.bridge, podUid, containerd.socket];
    let netnsPath: string | undefined;
    const ids: string[] = [];
    let report: RuntimeTeardownReport;
    const cri = createCriClient({ runtimeEndpoint: target.info.runtimeEndpoint });
    try {
      expect(target.info.kind).toBe('containerd');
      expect(target.info.provisioningMs).toBeGreaterThan(0);
      const hostPort = await freeLoopbackPort();
      const sandboxConfig = {
        metadata: { name: 'env-test', uid: podUid, namespace: 'kubelet-harness', attempt: 0 },
        hostname: 'env-test',
        logDirectory: logDir,
        portMappings: [{ protocol: 'TCP' as const, containerPort: 8080, hostPort, hostIp: '127.0.0.1' }],
        linux: { cgroupParent: `/kubepods/burstable/pod${podUid}` },
      };
      const { podSandboxId } = await cri.runPodSandbox({ config: sandboxConfig });
      ids.push(podSandboxId);
      const status = await cri.podSandboxStatus({ podSandboxId });
      const ip = status.status?.network?.ip ?? '';
      expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(overlaps(`${ip}/32`, target.info.podSubnet ?? '')).toBe(true);
      netnsPath = sandboxBundles(join(containerd.runDir, 'state')).find((bundle) => bundle.id === podSandboxId)?.netnsPath;
      expect(netnsPath).toMatch(/^\/var\/run\/netns\/cni-/);

      const { imageRef } = await cri.pullImage({ image: { image: target.info.images.busybox } });
      // The upstream-looking names resolve through the certs.d mirrors to the same local image.
      const mirrored = await cri.pullImage({ image: { image: target.info.mirroredImages?.busybox ?? 'unset' } });
      expect(mirrored.imageRef).toBe(imageRef);
      expect((await cri.pullImage({ image: { image: 'registry.k8s.io/pause:3.10' } })).imageRef).toMatch(/^sha256:/);
      const { containerId } = await cri.createContainer({
        podSandboxId,
        config: { metadata: { name: 'echo', attempt: 0 }, image: { image: target.info.images.busybox }, command: ['sh', '-c', 'echo hi'], logPath: 'echo.log' },
        sandboxConfig,
      });
      ids.push(containerId);
      await cri.startContainer({ containerId });
      let state = '';
      for (let i = 0; i < 100 && state !== 'CONTAINER_EXITED'; i++) {
        state = (await cri.containerStatus({ containerId })).status?.state ?? '';
        if (state !== 'CONTAINER_EXITED') await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const exited = (await cri.containerStatus({ containerId })).status;
      expect(exited?.state).toBe('CONTAINER_EXITED');
      expect(exited?.exitCode).toBe(0);
      expect(readFileSync(join(logDir, 'echo.log'), 'utf8')).toMatch(/^\S+ stdout F hi\n$/);

      // busybox httpd in the pod, reached from the host through the 127.0.0.1 port mapping (portmap).
      const server = await cri.createContainer({
        podSandboxId,
        config: {
          metadata: { name: 'httpd', attempt: 0 },
          image: { image: target.info.images.busybox },
          command: ['sh', '-c', 'echo served-by-busybox > /tmp/index.html && exec httpd -f -p 8080 -h /tmp'],
          logPath: 'httpd.log',
        },
        sandboxConfig,
      });
      ids.push(server.containerId);
      await cri.startContainer({ containerId: server.containerId });
      let body = '';
      for (let i = 0; i < 50 && body === ''; i++) {
        body = await fetch(`http://127.0.0.1:${hostPort}/index.html`).then((r) => r.text(), () => '');
        if (body === '') await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(body).toBe('served-by-busybox\n');
    } finally {
      cri.close();
      report = await target.stop();
    }

    expect(report.problems).toEqual([]);
    expect(report.containerd?.podsRemoved).toBe(1);
    expect(existsSync(containerd.runDir)).toBe(false);
    expect(existsSync(target.registry.workDir)).toBe(false);
    expect(existsSync(`/proc/${containerd.pid}`)).toBe(false);
    if (netnsPath) expect(existsSync(netnsPath)).toBe(false);
    const diff = diffSnapshots(before, takeHostSnapshot());
    expect(attributable(diff, [...marks, ...ids, ...(netnsPath ? [basename(netnsPath)] : [])])).toEqual({});
  });

  it('with an existing runtime endpoint starts only the registry, whose images that runtime pulls', { timeout: 120_000 }, async () => {
    const runtime = await provisionContainerdTarget();
    try {
      const external = await provisionContainerdTarget({ runtimeEndpoint: runtime.info.runtimeEndpoint });
      try {
        expect(external.containerd).toBeUndefined();
        expect(external.info.kind).toBe('endpoint');
        expect(external.info.runtimeEndpoint).toBe(runtime.info.runtimeEndpoint);
        expect(external.info.images.busybox).not.toBe(runtime.info.images.busybox); // its own registry
        const cri = createCriClient({ runtimeEndpoint: external.info.runtimeEndpoint });
        try {
          // No host config names this registry: containerd pulls 127.0.0.1:PORT over plain HTTP by default.
          const { imageRef } = await cri.pullImage({ image: { image: external.info.images.busybox } });
          expect(imageRef).toMatch(/^sha256:[0-9a-f]{64}$/);
        } finally {
          cri.close();
        }
      } finally {
        const report = await external.stop();
        expect(report.problems).toEqual([]);
        expect(existsSync(external.registry.workDir)).toBe(false);
      }
    } finally {
      expect((await runtime.stop()).problems).toEqual([]);
    }
  });

  it('refuses an unprivileged user with instructions instead of skipping', { timeout: 60_000 }, () => {
    const result = spawnSync(
      process.execPath,
      ['--experimental-transform-types', '--disable-warning=ExperimentalWarning', '--import', packagePath('ci/scripts/source-loader.mjs'), packagePath('ci/testing/provision-or-explain.ts')],
      { uid: 65534, gid: 65534, encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/nonexistent' } },
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('not running as root');
    expect(result.stdout).toContain('bash ci/install-system-deps.sh');
    expect(result.stdout).toContain('CRI_ENDPOINT=unix://');
  });

  it('names the missing executables and the packages to install', () => {
    const message = howToProvide({ problems: ['missing /usr/bin/containerd'], missingPackages: ['containerd'] });
    expect(message).toContain('  - missing /usr/bin/containerd');
    expect(message).toContain('(installs: containerd)');
  });
});
