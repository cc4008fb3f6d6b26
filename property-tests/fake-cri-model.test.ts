import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../agent/clock/virtual-clock.js';
import { Journal } from '../fakes/journal/journal.js';
import { Code, CriError } from '../fakes/cri/errors.js';
import { FakeRuntime } from '../fakes/cri/runtime.js';

/**
 * Model-based test of the fake runtime's state machine under a virtual clock: random sequences of
 * sandbox and container operations, checked after every step against a small model of containerd's
 * semantics (states, exit codes and reasons, idempotent Stop/Remove, NOT_FOUND/UNKNOWN codes).
 */
type Kind = 'exit3' | 'sleep' | 'trap' | 'server';
const COMMANDS: Record<Kind, { image: string; command: string[] }> = {
  exit3: { image: 'busybox', command: ['sh', '-c', 'exit 3'] },
  sleep: { image: 'busybox', command: ['sleep', '600'] },
  trap: { image: 'busybox', command: ['sh', '-c', "trap 'exit 0' TERM; sleep 600 & wait"] },
  server: { image: 'example.com/app:1', command: [] },
};

interface ModelContainer {
  id: string;
  sandbox: number;
  kind: Kind;
  state: 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED';
  exitCode: number;
}
interface Model {
  sandboxes: Map<number, { id: string; state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY' }>;
  containers: ModelContainer[];
  removedContainers: string[];
  removedSandboxes: string[];
}
interface Real {
  rt: FakeRuntime;
  clock: VirtualClock;
}

async function code(p: Promise<unknown> | (() => unknown)): Promise<number> {
  try {
    if (typeof p === 'function') p();
    else await p;
    return Code.OK;
  } catch (err) {
    if (err instanceof CriError) return err.code;
    throw err;
  }
}

function check(m: Model, r: Real): void {
  const sandboxes = (r.rt.listPodSandbox({ filter: null } as never).items as { id: string; state: string }[]).map((s) => [s.id, s.state]).sort();
  expect(sandboxes).toEqual([...m.sandboxes.values()].map((s) => [s.id, s.state]).sort());
  const containers = (r.rt.listContainers({ filter: null } as never).containers as { id: string; state: string }[]).map((c) => [c.id, c.state]).sort();
  expect(containers).toEqual(m.containers.map((c) => [c.id, c.state]).sort());
  for (const c of m.containers) {
    const status = r.rt.containerStatus({ containerId: c.id, verbose: false } as never).status as { exitCode: number; reason: string };
    if (c.state === 'CONTAINER_EXITED') {
      expect(status.exitCode).toBe(c.exitCode);
      expect(status.reason).toBe(c.exitCode === 0 ? 'Completed' : 'Error');
    } else {
      expect(status.reason).toBe('');
    }
  }
  for (const id of m.removedContainers) expect(r.rt.containerIds()).not.toContain(id);
}

class RunSandbox implements fc.AsyncCommand<Model, Real> {
  constructor(readonly slot: number) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const config = { metadata: { name: `pod${this.slot}`, uid: `uid${this.slot}`, namespace: 'ns', attempt: 0 }, labels: {}, annotations: {} };
    const exists = m.sandboxes.has(this.slot);
    let id = '';
    const c = await code(() => (id = (r.rt.runPodSandbox({ config, runtimeHandler: '' } as never).podSandboxId as string)));
    // The name (metadata) stays reserved until the sandbox is removed.
    expect(c).toBe(exists ? Code.UNKNOWN : Code.OK);
    if (!exists) m.sandboxes.set(this.slot, { id, state: 'SANDBOX_READY' });
    check(m, r);
  }
  toString = (): string => `RunSandbox(${this.slot})`;
}

class StopSandbox implements fc.AsyncCommand<Model, Real> {
  constructor(readonly slot: number) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const s = m.sandboxes.get(this.slot);
    const c = await code(r.rt.stopPodSandbox({ podSandboxId: s?.id ?? `missing-${this.slot}` } as never));
    expect(c).toBe(s ? Code.OK : Code.NOT_FOUND);
    if (s) {
      s.state = 'SANDBOX_NOTREADY';
      for (const ct of m.containers) {
        if (ct.sandbox === this.slot && ct.state === 'CONTAINER_RUNNING') Object.assign(ct, { state: 'CONTAINER_EXITED', exitCode: 137 });
      }
    }
    check(m, r);
  }
  toString = (): string => `StopSandbox(${this.slot})`;
}

class RemoveSandbox implements fc.AsyncCommand<Model, Real> {
  constructor(readonly slot: number) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const s = m.sandboxes.get(this.slot);
    expect(await code(r.rt.removePodSandbox({ podSandboxId: s?.id ?? `missing-${this.slot}` } as never))).toBe(Code.OK);
    if (s) {
      m.sandboxes.delete(this.slot);
      m.removedSandboxes.push(s.id);
      for (const ct of m.containers.filter((x) => x.sandbox === this.slot)) m.removedContainers.push(ct.id);
      m.containers = m.containers.filter((x) => x.sandbox !== this.slot);
    }
    check(m, r);
  }
  toString = (): string => `RemoveSandbox(${this.slot})`;
}

let nameCounter = 0;
class CreateContainer implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly slot: number,
    readonly kind: Kind,
  ) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const s = m.sandboxes.get(this.slot);
    const { image, command } = COMMANDS[this.kind];
    let id = '';
    const c = await code(
      () =>
        (id = r.rt.createContainer({
          podSandboxId: s?.id ?? `missing-${this.slot}`,
          config: { metadata: { name: `c${++nameCounter}`, attempt: 0 }, image: { image }, command, args: [], envs: [], labels: {}, annotations: {}, mounts: [], logPath: '' },
          sandboxConfig: null,
        } as never).containerId as string),
    );
    // Missing sandbox, or a stopped one (its task is gone in containerd): NOT_FOUND.
    expect(c).toBe(s?.state === 'SANDBOX_READY' ? Code.OK : Code.NOT_FOUND);
    if (c === Code.OK) m.containers.push({ id, sandbox: this.slot, kind: this.kind, state: 'CONTAINER_CREATED', exitCode: 0 });
    check(m, r);
  }
  toString = (): string => `CreateContainer(${this.slot}, ${this.kind})`;
}

class StartContainer implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>): boolean => m.containers.length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const ct = m.containers[this.pick % m.containers.length]!;
    const c = await code(() => r.rt.startContainer({ containerId: ct.id } as never));
    const sandboxReady = m.sandboxes.get(ct.sandbox)?.state === 'SANDBOX_READY';
    if (ct.state !== 'CONTAINER_CREATED') {
      expect(c).toBe(Code.UNKNOWN);
    } else if (!sandboxReady) {
      expect(c).toBe(Code.UNKNOWN);
      Object.assign(ct, { state: 'CONTAINER_EXITED', exitCode: 128 });
    } else {
      expect(c).toBe(Code.OK);
      ct.state = 'CONTAINER_RUNNING';
      await r.clock.advance(1);
      if (ct.kind === 'exit3') Object.assign(ct, { state: 'CONTAINER_EXITED', exitCode: 3 });
    }
    if (ct.exitCode === 128) {
      // StartError is its own reason; check it here and keep the generic check for the rest.
      const status = r.rt.containerStatus({ containerId: ct.id, verbose: false } as never).status as { reason: string };
      expect(status.reason).toBe('StartError');
      m.containers = m.containers.filter((x) => x !== ct);
      await r.rt.removeContainer({ containerId: ct.id } as never);
      m.removedContainers.push(ct.id);
    }
    check(m, r);
  }
  toString = (): string => `StartContainer(#${this.pick})`;
}

class StopContainer implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly pick: number,
    readonly timeoutS: number,
  ) {}
  check = (m: Readonly<Model>): boolean => m.containers.length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const ct = m.containers[this.pick % m.containers.length]!;
    let settled = false;
    const stopping = r.rt.stopContainer({ containerId: ct.id, timeout: String(this.timeoutS) } as never).then(() => (settled = true));
    if (ct.state === 'CONTAINER_RUNNING') {
      const graceful = this.timeoutS > 0 && (ct.kind === 'trap' || ct.kind === 'server');
      if (this.timeoutS > 0 && !graceful) {
        // PID 1 without a TERM handler ignores SIGTERM: nothing happens before the grace period ends.
        await r.clock.advance(this.timeoutS * 1000 - 1);
        expect(settled).toBe(false);
        await r.clock.advance(1);
      } else {
        await r.clock.advance(0);
      }
      Object.assign(ct, { state: 'CONTAINER_EXITED', exitCode: graceful ? 0 : 137 });
    }
    await stopping;
    check(m, r);
  }
  toString = (): string => `StopContainer(#${this.pick}, ${this.timeoutS}s)`;
}

class RemoveContainer implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>): boolean => m.containers.length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const ct = m.containers[this.pick % m.containers.length]!;
    expect(await code(r.rt.removeContainer({ containerId: ct.id } as never))).toBe(Code.OK);
    expect(await code(r.rt.removeContainer({ containerId: ct.id } as never))).toBe(Code.OK);
    m.containers = m.containers.filter((x) => x !== ct);
    m.removedContainers.push(ct.id);
    expect(await code(() => r.rt.containerStatus({ containerId: ct.id, verbose: false } as never))).toBe(Code.NOT_FOUND);
    check(m, r);
  }
  toString = (): string => `RemoveContainer(#${this.pick})`;
}

class Advance implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    await r.clock.advance(this.ms);
    check(m, r);
  }
  toString = (): string => `Advance(${this.ms})`;
}

const slot = fc.integer({ min: 0, max: 2 });
const kind = fc.constantFrom<Kind>('exit3', 'sleep', 'trap', 'server');
const commands = fc.commands(
  [
    slot.map((s) => new RunSandbox(s)),
    slot.map((s) => new RunSandbox(s)),
    slot.map((s) => new StopSandbox(s)),
    slot.map((s) => new RemoveSandbox(s)),
    fc.tuple(slot, kind).map(([s, k]) => new CreateContainer(s, k)),
    fc.tuple(slot, kind).map(([s, k]) => new CreateContainer(s, k)),
    fc.nat(10).map((p) => new StartContainer(p)),
    fc.nat(10).map((p) => new StartContainer(p)),
    fc.tuple(fc.nat(10), fc.constantFrom(0, 2, 30)).map(([p, t]) => new StopContainer(p, t)),
    fc.nat(10).map((p) => new RemoveContainer(p)),
    fc.constantFrom(1, 1_000, 60_000).map((ms) => new Advance(ms)),
  ],
  { maxCommands: 40, size: 'max' },
);

describe('the fake runtime against a model of containerd semantics', () => {
  it('keeps sandbox and container states, exit codes and error codes as the model says', async () => {
    await fc.assert(
      fc.asyncProperty(commands, async (cmds) => {
        const clock = new VirtualClock();
        const rt = new FakeRuntime({ clock, journal: new Journal(clock) });
        rt.images.pull('busybox', 0);
        rt.images.pull('example.com/app:1', 0);
        try {
          await fc.asyncModelRun(() => ({ model: { sandboxes: new Map(), containers: [], removedContainers: [], removedSandboxes: [] }, real: { rt, clock } }), cmds);
        } finally {
          rt.reset();
        }
      }),
      { numRuns: 1_000, seed: 42 },
    );
  }, 300_000);
});
