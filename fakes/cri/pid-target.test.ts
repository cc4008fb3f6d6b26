import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../agent/clock/virtual-clock.js';
import { thrownBy } from '../../ci/util/thrown.js';
import { Journal } from '../journal/journal.js';
import { Code, CriError } from './errors.js';
import { FakeRuntime } from './runtime.js';

/** PID namespace mode TARGET (an ephemeral container joining another container's processes). */

const runtimes: FakeRuntime[] = [];
afterEach(() => {
  for (const rt of runtimes.splice(0)) rt.reset();
});

function setup() {
  const clock = new VirtualClock();
  const rt = new FakeRuntime({ clock, journal: new Journal(clock) });
  runtimes.push(rt);
  rt.images.pull('busybox', 0);
  let n = 0;
  const sandbox = (): string =>
    rt.runPodSandbox({
      config: { metadata: { name: `pod${++n}`, uid: `uid${n}`, namespace: 'ns', attempt: 0 }, labels: {}, annotations: {}, hostname: '', logDirectory: '', dnsConfig: null, portMappings: [], linux: null, windows: null },
      runtimeHandler: '',
    } as never).podSandboxId as string;
  const create = (podSandboxId: string, name: string, command: string[], pid?: { mode: string; targetId: string }): string =>
    rt.createContainer({
      podSandboxId,
      config: {
        metadata: { name, attempt: 0 },
        image: { image: 'busybox' },
        command,
        args: [],
        envs: [],
        labels: {},
        annotations: {},
        mounts: [],
        logPath: '',
        workingDir: '',
        linux: pid ? { securityContext: { namespaceOptions: { network: 'POD', pid: pid.mode, ipc: 'POD', targetId: pid.targetId } } } : null,
      },
      sandboxConfig: null,
    } as never).containerId as string;
  const cat = async (containerId: string, path: string): Promise<string> => {
    const res = await rt.execSync({ containerId, cmd: ['cat', path], timeout: 5 } as never);
    return Buffer.from(res.stdout as Uint8Array).toString('utf8');
  };
  return { rt, sandbox, create, cat };
}

function createError(fn: () => unknown): CriError {
  return thrownBy(CriError, fn);
}

describe('PID namespace mode TARGET in the fake runtime', () => {
  it("shows the target's process as PID 1 to a container that joins its PID namespace", async () => {
    const { rt, sandbox, create, cat } = setup();
    const pod = sandbox();
    const app = create(pod, 'app', ['sleep', '3600']);
    rt.startContainer({ containerId: app });
    const debug = create(pod, 'debugger', ['sleep', '60'], { mode: 'TARGET', targetId: app });
    rt.startContainer({ containerId: debug });
    expect(await cat(debug, '/proc/1/cmdline')).toBe('sleep\u00003600\u0000');
    const alone = create(pod, 'alone', ['sleep', '60']);
    rt.startContainer({ containerId: alone });
    expect(await cat(alone, '/proc/1/cmdline')).toBe('sleep\u000060\u0000');
  });

  it('refuses a target that does not exist, is in another sandbox or is not running, as containerd does', () => {
    const { sandbox, create } = setup();
    const pod = sandbox();
    const other = sandbox();
    const stopped = create(pod, 'app', ['sleep', '3600']);
    const elsewhere = create(other, 'app', ['sleep', '3600']);
    const missing = createError(() => create(pod, 'd1', ['sh'], { mode: 'TARGET', targetId: 'nope' }));
    expect(missing.code).toBe(Code.UNKNOWN);
    expect(missing.message).toMatch(/invalid target container: container "nope" does not exist: not found$/);
    expect(createError(() => create(pod, 'd2', ['sh'], { mode: 'TARGET', targetId: elsewhere })).message).toMatch(
      new RegExp(`container "${elsewhere}" \\(sandbox ${other}\\) does not belong to sandbox ${pod}$`),
    );
    expect(createError(() => create(pod, 'd3', ['sh'], { mode: 'TARGET', targetId: stopped })).message).toMatch(/is not running - in state CONTAINER_CREATED$/);
  });
});
