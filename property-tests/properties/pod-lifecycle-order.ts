/**
 * The kubelet's order over one pod's life, checked on the shared journal (kubelet-semantics.md §4.1,
 * §4.2, §4.4, §4.7): the agent's CRI calls with their begin and end (source 'agent'), the fake
 * runtime's own events (a container created, started, exited; a sandbox ready, stopped, removed;
 * an image pulled), the fake CSI driver's calls and the API server's requests. Returns the
 * violations as sentences naming the journal entries involved; empty = the order held.
 *
 * Start: volumes published → RunPodSandbox (CNI ADD inside it) → per container start: its image ensured (pulled at
 * least once) → CreateContainer → StartContainer → postStart, one start at a time; init container k
 * is created only after every init container before it exited 0 and while no other init container
 * runs; app containers only after all of them. Deletion: preStop → StopContainer for every running
 * container → StopPodSandbox (CNI DEL inside it) → RemovePodSandbox → NodeUnpublishVolume → the pod object removed,
 * and nothing is created or started once the sandbox is being stopped.
 */
import type { JournalEntry } from '../../fakes/journal/journal.js';
import { POSTSTART_MARKER, PRESTOP_MARKER, appImage, appName, initImage, initName, type PodScenario } from '../arbitraries/pod-spec.js';

export interface Call {
  readonly rpc: string;
  readonly begin: JournalEntry;
  readonly end: JournalEntry | undefined;
  readonly ok: boolean;
}

export interface OrderInput {
  readonly entries: readonly JournalEntry[];
  readonly scenario: PodScenario;
  readonly podName: string;
  /** The pod was Succeeded/Failed before it was deleted (its volumes are released at that point). */
  readonly terminalBeforeDeletion: boolean;
}

function describe(e: JournalEntry | undefined): string {
  if (!e) return '(none)';
  const id = e.subject['containerId'] ?? e.subject['podSandboxId'] ?? e.subject['name'] ?? '';
  return `#${e.seq} ${e.source} ${e.name}${id ? ` ${id.slice(0, 12)}` : ''}`;
}

/** The agent's calls, each begin paired with its end by the request object they share. */
export function agentCalls(entries: readonly JournalEntry[]): Call[] {
  type MutableCall = { rpc: string; begin: JournalEntry; end: JournalEntry | undefined; ok: boolean };
  const open = new Map<unknown, MutableCall>();
  const calls: MutableCall[] = [];
  for (const e of entries) {
    if (e.source !== 'agent') continue;
    if (e.kind === 'event' && e.name.endsWith('.begin')) {
      const call: MutableCall = { rpc: e.name.slice(0, -'.begin'.length), begin: e, end: undefined, ok: false };
      calls.push(call);
      open.set(e.request, call);
    } else if (e.kind === 'rpc') {
      const call = open.get(e.request);
      if (call) {
        call.end = e;
        call.ok = e.error === undefined;
        open.delete(e.request);
      }
    }
  }
  return calls;
}

function execMarker(call: Call): string {
  const cmd = (call.begin.request as { cmd?: unknown }).cmd;
  const text = Array.isArray(cmd) ? cmd.join(' ') : '';
  if (text.includes(POSTSTART_MARKER)) return 'postStart';
  if (text.includes(PRESTOP_MARKER)) return 'preStop';
  return 'other';
}

function imageOf(call: Call): string {
  const req = call.begin.request as { image?: { image?: string } };
  return req.image?.image ?? '';
}

export function orderViolations(input: OrderInput): string[] {
  const { entries, scenario } = input;
  const v: string[] = [];
  const calls = agentCalls(entries);
  const of = (rpc: string): Call[] => calls.filter((c) => c.rpc === rpc);
  const fake = (name: string): JournalEntry[] => entries.filter((e) => e.source === 'cri' && e.kind === 'event' && e.name === name);

  // Containers by id, from the agent's successful CreateContainer calls.
  const nameOf = new Map<string, string>();
  for (const c of of('CreateContainer')) {
    const id = (c.end?.response as { containerId?: string } | undefined)?.containerId;
    const name = (c.begin.request as { config?: { metadata?: { name?: string } } }).config?.metadata?.name;
    if (c.ok && id && name) nameOf.set(id, name);
  }
  const specOf = new Map<string, { image: string; postStart: boolean; preStop: boolean }>();
  scenario.inits.forEach((_, i) => specOf.set(initName(i), { image: initImage(i), postStart: false, preStop: false }));
  scenario.apps.forEach((b, i) =>
    specOf.set(appName(i), { image: appImage(i), postStart: b.kind === 'forever' && b.postStart, preStop: b.kind === 'forever' && b.preStop }),
  );
  const isInit = (name: string): boolean => name.startsWith('init-');
  const initIndex = (name: string): number => Number(name.slice('init-'.length));

  const started = fake('ContainerStarted');
  const exited = fake('ContainerExited');
  const runningAt = (seq: number): string[] =>
    started
      .filter((s) => s.seq < seq)
      .map((s) => s.subject['containerId'] ?? '')
      .filter((id) => !exited.some((x) => x.seq < seq && x.subject['containerId'] === id));

  // --- start ------------------------------------------------------------------------------------
  const sandboxCalls = of('RunPodSandbox');
  const firstSandboxOk = sandboxCalls.find((c) => c.ok);
  const publishes = entries.filter((e) => e.source === 'csi' && e.kind === 'rpc' && e.name === 'NodePublishVolume' && e.error === undefined);
  if (scenario.csiVolume && firstSandboxOk) {
    const firstPublish = publishes[0];
    const firstSandboxBegin = sandboxCalls[0]!.begin;
    if (!firstPublish) v.push('the CSI volume was never published, yet a sandbox was created');
    else if (firstPublish.seq > firstSandboxBegin.seq) v.push(`volume published (${describe(firstPublish)}) after RunPodSandbox began (${describe(firstSandboxBegin)})`);
  }
  // The pod network: CNI ADD while RunPodSandbox runs (the runtime's job), before any container.
  const cni = (name: string): JournalEntry[] => entries.filter((e) => e.source === 'cni' && e.kind === 'rpc' && e.name === name);
  const within = (e: JournalEntry, rpc: string): boolean => of(rpc).some((k) => k.begin.seq < e.seq && (k.end === undefined || k.end.seq > e.seq));
  for (const add of cni('ADD')) {
    if (!within(add, 'RunPodSandbox')) v.push(`${describe(add)} (CNI ADD) outside any RunPodSandbox call`);
  }
  const firstAdd = cni('ADD').find((e) => e.error === undefined);
  const firstCreate = of('CreateContainer')[0];
  if (firstCreate && (!firstAdd || firstAdd.seq > firstCreate.begin.seq)) v.push(`${describe(firstCreate.begin)} began before the pod network was added (${describe(firstAdd)})`);

  const creates = of('CreateContainer');
  for (const c of creates) {
    const name = (c.begin.request as { config?: { metadata?: { name?: string } } }).config?.metadata?.name ?? '';
    const mounts = (c.begin.request as { config?: { mounts?: Array<{ containerPath?: string }> } }).config?.mounts ?? [];
    for (const [wanted, path] of [
      [scenario.emptyDir, '/scratch'],
      [scenario.csiVolume, '/data'],
    ] as const) {
      if (wanted && !mounts.some((m) => m.containerPath === path)) v.push(`${describe(c.begin)} for ${name} lacks the volume mount ${path}`);
    }
    if (!firstSandboxOk?.end || firstSandboxOk.end.seq > c.begin.seq) v.push(`${describe(c.begin)} for ${name} began before any sandbox was ready`);

    // The image of this start was ensured after the previous start of the same container (or the sandbox).
    const spec = specOf.get(name);
    if (!spec) {
      v.push(`${describe(c.begin)} creates an unknown container "${name}"`);
      continue;
    }
    const repo = spec.image.replace(/:[^/]*$/, '');
    const previous = creates.filter((p) => p.begin.seq < c.begin.seq && p.begin.request !== c.begin.request && (p.begin.request as { config?: { metadata?: { name?: string } } }).config?.metadata?.name === name).at(-1);
    const after = Math.max(previous?.begin.seq ?? 0, firstSandboxOk?.end?.seq ?? 0);
    const ensureRpcs = scenario.imagePullPolicy === 'Always' ? ['PullImage'] : ['PullImage', 'ImageStatus'];
    const ensured = calls.some((k) => ensureRpcs.includes(k.rpc) && k.ok && k.end && k.end.seq > after && k.end.seq < c.begin.seq && imageOf(k).includes(repo));
    if (!ensured) v.push(`${describe(c.begin)} for ${name}: no ${ensureRpcs.join('/')} of ${spec.image} between #${after} and the create`);
    const pulled = fake('ImagePulled').some((e) => e.seq < c.begin.seq && String((e.response as { image?: string } | undefined)?.image ?? '').includes(repo));
    if (!pulled) v.push(`${describe(c.begin)} for ${name}: image ${spec.image} was never pulled before`);

    // Init containers one at a time, in order, each exited 0 before the next is created; apps after all.
    const needed = isInit(name) ? scenario.inits.slice(0, initIndex(name)).map((_, j) => initName(j)) : scenario.inits.map((_, j) => initName(j));
    for (const before of needed) {
      const ok = exited.some((x) => x.seq < c.begin.seq && nameOf.get(x.subject['containerId'] ?? '') === before && (x.response as { exitCode?: number }).exitCode === 0);
      if (!ok) v.push(`${describe(c.begin)} for ${name} began before ${before} had exited 0`);
    }
    if (isInit(name)) {
      const others = runningAt(c.begin.seq).filter((id) => isInit(nameOf.get(id) ?? ''));
      if (others.length > 0) v.push(`${describe(c.begin)} for ${name} began while init container(s) ${others.map((id) => nameOf.get(id)).join(', ')} were running`);
      const appFirst = creates.find((p) => !isInit((p.begin.request as { config?: { metadata?: { name?: string } } }).config?.metadata?.name ?? 'init-'));
      if (appFirst && appFirst.begin.seq < c.begin.seq) v.push(`${describe(c.begin)} for ${name} came after app containers were already created (${describe(appFirst.begin)})`);
    }
  }

  // One start at a time: sandbox, create, start and postStart calls never overlap.
  const startPath = calls.filter((k) => ['RunPodSandbox', 'CreateContainer', 'StartContainer'].includes(k.rpc) || (k.rpc === 'ExecSync' && execMarker(k) === 'postStart'));
  for (const k of startPath) {
    const overlapping = startPath.find((o) => o !== k && o.begin.seq < k.begin.seq && (o.end === undefined || o.end.seq > k.begin.seq));
    if (overlapping) v.push(`${describe(k.begin)} began while ${describe(overlapping.begin)} was still in flight`);
  }

  // postStart right after its container started, before anything else is created or started.
  for (const s of of('StartContainer')) {
    if (!s.ok || !s.end) continue;
    const id = s.begin.subject['containerId'] ?? '';
    const name = nameOf.get(id) ?? '';
    const hook = of('ExecSync').find((x) => x.begin.seq > s.end!.seq && x.begin.subject['containerId'] === id && execMarker(x) === 'postStart');
    if (!specOf.get(name)?.postStart) {
      if (hook) v.push(`${describe(hook.begin)} runs a postStart hook for ${name}, which has none`);
      continue;
    }
    const nextStart = startPath.find((k) => k.begin.seq > s.end!.seq && k.rpc !== 'ExecSync');
    if (!hook) v.push(`no postStart hook ran for ${name} after ${describe(s.end)}`);
    else if (nextStart && nextStart.begin.seq < hook.begin.seq) v.push(`${describe(nextStart.begin)} began before the postStart hook of ${name} (${describe(hook.begin)})`);
  }
  for (const x of of('ExecSync')) {
    if (execMarker(x) !== 'postStart') continue;
    const id = x.begin.subject['containerId'] ?? '';
    if (!of('StartContainer').some((s) => s.ok && s.end && s.end.seq < x.begin.seq && s.begin.subject['containerId'] === id)) {
      v.push(`${describe(x.begin)}: postStart hook before its container was started`);
    }
  }

  // --- deletion ---------------------------------------------------------------------------------
  const stopSandbox = of('StopPodSandbox');
  const teardown = stopSandbox[0];
  if (firstSandboxOk && !teardown) v.push('the sandbox was never stopped');
  if (teardown) {
    const k = teardown.begin.seq;
    for (const late of calls.filter((c) => ['RunPodSandbox', 'CreateContainer', 'StartContainer'].includes(c.rpc) && c.begin.seq > k)) {
      v.push(`${describe(late.begin)} began after the sandbox was being stopped (${describe(teardown.begin)})`);
    }
    const stops = of('StopContainer');
    for (const id of runningAt(k)) {
      if (!stops.some((s) => s.begin.seq < k && s.begin.subject['containerId'] === id)) {
        v.push(`container ${nameOf.get(id) ?? id} was still running when StopPodSandbox began (${describe(teardown.begin)}) and was never stopped with StopContainer`);
      }
    }
    for (const s of stops.filter((s) => s.begin.seq < k)) {
      if (!s.end || s.end.seq > k) v.push(`${describe(s.begin)} was still in flight when StopPodSandbox began (${describe(teardown.begin)})`);
    }
  }
  // preStop first, for every container stopped while running.
  const grace = scenario.terminationGracePeriodSeconds;
  const seenStop = new Set<string>();
  for (const s of of('StopContainer')) {
    const id = s.begin.subject['containerId'] ?? '';
    if (seenStop.has(id)) continue;
    seenStop.add(id);
    const name = nameOf.get(id) ?? '';
    if (!specOf.get(name)?.preStop || !runningAt(s.begin.seq).includes(id)) continue;
    const hook = of('ExecSync').find((x) => x.begin.subject['containerId'] === id && execMarker(x) === 'preStop' && x.begin.seq < s.begin.seq);
    if (!hook) {
      v.push(`${describe(s.begin)} stops ${name} without running its preStop hook first`);
      continue;
    }
    const graceSpent = s.begin.t - hook.begin.t >= grace * 1000 - 1;
    if ((!hook.end || hook.end.seq > s.begin.seq) && !graceSpent) v.push(`${describe(s.begin)} began while the preStop hook of ${name} still ran (${describe(hook.begin)}) within the grace period`);
  }
  for (const del of cni('DEL')) {
    if (!within(del, 'StopPodSandbox') && !within(del, 'RemovePodSandbox') && !within(del, 'RunPodSandbox')) {
      v.push(`${describe(del)} (CNI DEL) outside StopPodSandbox/RemovePodSandbox (or the cleanup of a failed RunPodSandbox)`);
    }
    if (teardown && del.seq > teardown.begin.seq) {
      for (const s of of('StopContainer').filter((s) => s.begin.seq < teardown.begin.seq)) {
        if (s.end && s.end.seq > del.seq) v.push(`${describe(del)} (CNI DEL) while ${describe(s.begin)} was still stopping a container`);
      }
    }
  }
  const stoppedOk = stopSandbox.find((c) => c.ok);
  const removes = of('RemovePodSandbox');
  const removedOk = removes.find((c) => c.ok);
  if (removes[0] && (!stoppedOk?.end || stoppedOk.end.seq > removes[0].begin.seq)) {
    v.push(`${describe(removes[0].begin)} began before the sandbox was stopped (${describe(stoppedOk?.end)})`);
  }
  if (firstSandboxOk && !removedOk) v.push('the sandbox was never removed');
  const unpublishes = entries.filter((e) => e.source === 'csi' && e.kind === 'rpc' && e.name === 'NodeUnpublishVolume');
  for (const u of unpublishes) {
    if (!stoppedOk?.end || u.seq < stoppedOk.end.seq) v.push(`${describe(u)} before the sandbox was stopped (${describe(stoppedOk?.end)})`);
    if (!input.terminalBeforeDeletion && (!removedOk?.end || u.seq < removedOk.end.seq)) v.push(`${describe(u)} before the sandbox was removed (${describe(removedOk?.end)})`);
  }
  const unpublishedOk = unpublishes.filter((u) => u.error === undefined);
  if (publishes.length > 0 && unpublishedOk.length === 0) v.push('the CSI volume was published but never unpublished');
  const deletes = entries.filter((e) => e.source === 'apiserver' && e.name === 'delete pods' && e.subject['name'] === input.podName);
  const finalDelete = deletes.at(-1);
  if (!finalDelete) v.push('the pod object was never deleted through the API');
  else if (!input.terminalBeforeDeletion) {
    // A pod deleted while it runs keeps its object until the kubelet released everything (a terminal
    // pod's object goes at once: the API server deletes terminal pods without grace).
    for (const last of [removedOk?.end, unpublishedOk.at(-1)]) {
      if (last && last.seq > finalDelete.seq) v.push(`the pod object was removed (${describe(finalDelete)}) before ${describe(last)}`);
    }
  }
  return v;
}
