/**
 * Pod lifecycle scenarios for the reference kubelet on the fakes: a restart policy, init and app
 * containers whose behaviour is scripted through the fake CRI's knobs (FAKE_EXIT_CODE,
 * FAKE_EXIT_AFTER; no knob = a server that runs until stopped), optional exec hooks, an optional
 * emptyDir and CSI inline volume, and the transient CRI/CSI faults of the run. The scenario is plain
 * data so the property's model can state the expected outcome without reading the pod back.
 */
import type { V1Container, V1Pod, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import fc from 'fast-check';
import type { CniFaultRule } from '../../fakes/cni/types.js';
import type { FaultRule } from '../../fakes/cri/faults.js';

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

/** An init container exits by itself with `exitCode` after `afterMs` of clock time. */
export interface InitBehaviour {
  readonly exitCode: number;
  readonly afterMs: number;
}

/**
 * An app container either runs until it is stopped (optionally with exec hooks), or exits by itself.
 * Hooks only go on the former: an exec into a container that already exited fails, which would make
 * the postStart outcome a race rather than a property of the spec.
 */
export type AppBehaviour =
  | { readonly kind: 'forever'; readonly postStart: boolean; readonly preStop: boolean }
  | { readonly kind: 'exit'; readonly exitCode: number; readonly afterMs: number };

export interface PodScenario {
  readonly restartPolicy: RestartPolicy;
  readonly inits: readonly InitBehaviour[];
  readonly apps: readonly AppBehaviour[];
  readonly imagePullPolicy: 'IfNotPresent' | 'Always';
  readonly emptyDir: boolean;
  readonly csiVolume: boolean;
  readonly terminationGracePeriodSeconds: number;
}

/** CRI methods the faults pick from: every call the agent makes in a pod's life. */
export const CRI_FAULT_METHODS = [
  'RunPodSandbox',
  'PodSandboxStatus',
  'ListPodSandbox',
  'PullImage',
  'ImageStatus',
  'CreateContainer',
  'StartContainer',
  'ContainerStatus',
  'ListContainers',
  'ExecSync',
  'StopContainer',
  'RemoveContainer',
  'StopPodSandbox',
  'RemovePodSandbox',
] as const;

export const CSI_FAULT_METHODS = ['NodeGetCapabilities', 'NodePublishVolume', 'NodeUnpublishVolume'] as const;

/** A transient fault: an error answer or a delay, on the nth matching call (then `times` more). */
export interface FaultSpec<M extends string> {
  readonly method: M;
  readonly nth: number;
  readonly times: number;
  readonly effect:
    | { readonly type: 'error'; readonly code: 'UNAVAILABLE' | 'DEADLINE_EXCEEDED' }
    | { readonly type: 'delay'; readonly ms: number }
    // No answer at all: the agent's deadline (on the virtual clock) ends the call.
    | { readonly type: 'hang' };
}

/** A fault of the CNI plugin the fake runtime chains in: error 11 ("try again later") or a delay. */
export interface CniFaultSpec {
  readonly command: 'ADD' | 'DEL';
  readonly nth: number;
  readonly effect: { readonly type: 'error' } | { readonly type: 'delay'; readonly ms: number };
}

export interface FaultPlan {
  readonly cri: readonly FaultSpec<(typeof CRI_FAULT_METHODS)[number]>[];
  readonly csi: readonly FaultSpec<(typeof CSI_FAULT_METHODS)[number]>[];
  readonly cni: readonly CniFaultSpec[];
}

export interface LifecycleCase {
  readonly scenario: PodScenario;
  readonly faults: FaultPlan;
}

export const CSI_DRIVER = 'csi.kubelet-harness.dev';
export const POSTSTART_MARKER = 'poststart-hook';
export const PRESTOP_MARKER = 'prestop-hook';

const nonZeroExit = fc.constantFrom(1, 2, 7, 42, 255);
const exitCode = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: nonZeroExit });
const afterMs = fc.constantFrom(0, 0, 200, 1_000, 2_500);

const initArb: fc.Arbitrary<InitBehaviour> = fc.record({
  exitCode: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: nonZeroExit }),
  afterMs,
});

const appArb: fc.Arbitrary<AppBehaviour> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('forever' as const), postStart: fc.boolean(), preStop: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('exit' as const), exitCode, afterMs }) },
);

export const podScenarioArb: fc.Arbitrary<PodScenario> = fc.record({
  restartPolicy: fc.constantFrom<RestartPolicy>('Always', 'OnFailure', 'Never'),
  inits: fc.array(initArb, { minLength: 1, maxLength: 4 }),
  apps: fc.array(appArb, { minLength: 1, maxLength: 4 }),
  imagePullPolicy: fc.constantFrom('IfNotPresent' as const, 'Always' as const),
  emptyDir: fc.boolean(),
  csiVolume: fc.boolean(),
  terminationGracePeriodSeconds: fc.constantFrom(1, 5, 30),
});

function faultSpecArb<M extends string>(methods: readonly M[]): fc.Arbitrary<FaultSpec<M>> {
  return fc.record({
    method: fc.constantFrom(...methods),
    nth: fc.integer({ min: 1, max: 4 }),
    times: fc.integer({ min: 1, max: 2 }),
    effect: fc.oneof(
      fc.record({ type: fc.constant('error' as const), code: fc.constantFrom('UNAVAILABLE' as const, 'DEADLINE_EXCEEDED' as const) }),
      fc.record({ type: fc.constant('delay' as const), ms: fc.constantFrom(50, 500, 2_000) }),
      fc.constant({ type: 'hang' as const }),
    ),
  });
}

const cniFaultArb: fc.Arbitrary<CniFaultSpec> = fc.record({
  command: fc.constantFrom('ADD' as const, 'DEL' as const),
  nth: fc.integer({ min: 1, max: 2 }),
  effect: fc.oneof(fc.constant({ type: 'error' as const }), fc.record({ type: fc.constant('delay' as const), ms: fc.constantFrom(50, 1_000) })),
});

export const faultPlanArb: fc.Arbitrary<FaultPlan> = fc.record({
  cri: fc.array(faultSpecArb(CRI_FAULT_METHODS), { maxLength: 4 }),
  csi: fc.array(faultSpecArb(CSI_FAULT_METHODS), { maxLength: 2 }),
  cni: fc.array(cniFaultArb, { maxLength: 2 }),
});

export const lifecycleCaseArb: fc.Arbitrary<LifecycleCase> = fc.record({ scenario: podScenarioArb, faults: faultPlanArb });

export function initName(i: number): string {
  return `init-${i}`;
}

export function appName(i: number): string {
  return `app-${i}`;
}

export function initImage(i: number): string {
  return `registry.local/init-${i}:1.0`;
}

/** Two app containers share an image, so IfNotPresent finds the second one already pulled. */
export function appImage(i: number): string {
  return `registry.local/app-${i % 2}:1.0`;
}

/** `sh -c` exec hooks writing a marker file, so the hook's ExecSync is recognisable in the journal. */
function execHook(marker: string): { exec: { command: string[] } } {
  return { exec: { command: ['sh', '-c', `echo ${marker} > /tmp/${marker}`] } };
}

function exitEnv(exitCode: number, afterMs: number): { name: string; value: string }[] {
  return [
    { name: 'FAKE_EXIT_CODE', value: String(exitCode) },
    { name: 'FAKE_EXIT_AFTER', value: `${afterMs}ms` },
  ];
}

/** The pod the scenario describes, bound to `nodeName`. */
export function buildPod(name: string, namespace: string, nodeName: string, s: PodScenario): V1Pod {
  const mounts: V1VolumeMount[] = [];
  const volumes: V1Volume[] = [];
  if (s.emptyDir) {
    volumes.push({ name: 'scratch', emptyDir: {} });
    mounts.push({ name: 'scratch', mountPath: '/scratch' });
  }
  if (s.csiVolume) {
    volumes.push({ name: 'data', csi: { driver: CSI_DRIVER, volumeAttributes: { purpose: 'property' } } });
    mounts.push({ name: 'data', mountPath: '/data' });
  }
  const base = (containerName: string, image: string): V1Container => ({
    name: containerName,
    image,
    imagePullPolicy: s.imagePullPolicy,
    ...(mounts.length > 0 ? { volumeMounts: mounts.map((m) => ({ ...m })) } : {}),
  });
  const initContainers = s.inits.map((b, i) => ({ ...base(initName(i), initImage(i)), env: exitEnv(b.exitCode, b.afterMs) }));
  const containers = s.apps.map((b, i): V1Container => {
    const c = base(appName(i), appImage(i));
    if (b.kind === 'exit') return { ...c, env: exitEnv(b.exitCode, b.afterMs) };
    if (!b.postStart && !b.preStop) return c;
    return {
      ...c,
      lifecycle: {
        ...(b.postStart ? { postStart: execHook(POSTSTART_MARKER) } : {}),
        ...(b.preStop ? { preStop: execHook(PRESTOP_MARKER) } : {}),
      },
    };
  });
  return {
    metadata: { name, namespace },
    spec: {
      nodeName,
      restartPolicy: s.restartPolicy,
      terminationGracePeriodSeconds: s.terminationGracePeriodSeconds,
      initContainers,
      containers,
      ...(volumes.length > 0 ? { volumes } : {}),
    },
  };
}

/** True when an ExecSync request runs the preStop hook (the only exec a fault may hit: see faultRules). */
function isPreStopExec(request: unknown): boolean {
  const cmd = (request as { cmd?: unknown }).cmd;
  return Array.isArray(cmd) && cmd.some((a) => typeof a === 'string' && a.includes(PRESTOP_MARKER));
}

/**
 * The fault plan as fake fault rules. ExecSync errors and hangs only hit preStop hooks: a failed postStart
 * kills the container by design, which is a different scenario from a transient fault.
 */
export function faultRules(specs: readonly FaultSpec<string>[]): FaultRule[] {
  return specs.map((f, i) => {
    const nth = Array.from({ length: f.times }, (_, k) => f.nth + k);
    const onlyPreStop = f.method === 'ExecSync' && f.effect.type !== 'delay';
    return {
      name: `property fault ${i}: ${f.method} #${nth.join(',')} ${describeEffect(f.effect)}`,
      method: f.method,
      nth,
      effect: f.effect,
      ...(onlyPreStop ? { match: isPreStopExec } : {}),
    };
  });
}

function describeEffect(effect: FaultSpec<string>['effect']): string {
  switch (effect.type) {
    case 'error':
      return effect.code;
    case 'delay':
      return `delay ${effect.ms}ms`;
    case 'hang':
      return 'hang';
  }
}

/** The CNI part of the plan as the plugin's fault rules (code 11: "try again later" in the CNI spec). */
export function cniFaultRules(specs: readonly CniFaultSpec[]): CniFaultRule[] {
  return specs.map((f) =>
    f.effect.type === 'error'
      ? { command: f.command, nth: f.nth, code: 11, msg: `property fault: ${f.command} #${f.nth}` }
      : { command: f.command, nth: f.nth, delayMs: f.effect.ms },
  );
}
