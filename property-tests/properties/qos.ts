/**
 * QoS invariants (kubelet-semantics §1) against a per-container model: Guaranteed iff every counted
 * container (regular, init, sidecar) has equal positive cpu and memory requests and limits;
 * BestEffort iff none has any positive cpu/memory request or limit; Burstable otherwise.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import fc from 'fast-check';
import { defaultPodRequests } from '../../agent/resources/api-defaults.js';
import { podQOSClass, type QOSClass } from '../../agent/resources/qos.js';
import { containerCaseArb, podCaseArb, type ContainerModel, type RequestLimitModel } from '../arbitraries/pods.js';
import type { NamedProperty } from './types.js';

const GATE_OFF = { featureGates: { PodLevelResources: false } } as const;

const positive = (x: bigint | undefined): boolean => x !== undefined && x > 0n;
const isSet = (r: RequestLimitModel): boolean => positive(r.request) || positive(r.limit);
const isPinned = (r: RequestLimitModel): boolean => positive(r.limit) && r.request === r.limit;

function modelQOS(containers: readonly ContainerModel[]): QOSClass {
  if (containers.every((c) => !isSet(c.cpu) && !isSet(c.memory))) return 'BestEffort';
  if (containers.every((c) => isPinned(c.cpu) && isPinned(c.memory))) return 'Guaranteed';
  return 'Burstable';
}

function withoutOtherResources(pod: V1Pod): V1Pod {
  const strip = (c: V1Container): V1Container => {
    const keep = (list: Record<string, string> | undefined) =>
      list === undefined ? undefined : Object.fromEntries(Object.entries(list).filter(([k]) => k === 'cpu' || k === 'memory'));
    const requests = keep(c.resources?.requests);
    const limits = keep(c.resources?.limits);
    return { ...c, resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) } };
  };
  const spec = pod.spec!;
  return { ...pod, spec: { ...spec, containers: spec.containers.map(strip), ...(spec.initContainers ? { initContainers: spec.initContainers.map(strip) } : {}) } };
}

/** Moves one container across the regular/init boundary (keeping at least one regular container). */
function swapOneContainer(pod: V1Pod): V1Pod {
  const spec = pod.spec!;
  const regular = [...spec.containers];
  const init = [...(spec.initContainers ?? [])];
  if (regular.length > 1) init.push(regular.pop()!);
  else if (init.length > 0) regular.push({ ...init.shift()!, restartPolicy: undefined });
  return { ...pod, spec: { ...spec, containers: regular, initContainers: init } };
}

export const qosProperties: NamedProperty[] = [
  {
    name: 'qos: the class matches the per-container model (init and sidecar containers count)',
    property: fc.property(podCaseArb, ({ pod, containers }) => podQOSClass(pod, GATE_OFF) === modelQOS(containers)),
  },
  {
    name: 'qos: resources other than cpu and memory never change the class',
    property: fc.property(podCaseArb, ({ pod }) => podQOSClass(pod, GATE_OFF) === podQOSClass(withoutOtherResources(pod), GATE_OFF)),
  },
  {
    name: 'qos: moving a container between containers and initContainers keeps the class',
    property: fc.property(podCaseArb, ({ pod }) => podQOSClass(swapOneContainer(pod), GATE_OFF) === podQOSClass(pod, GATE_OFF)),
  },
  {
    name: 'qos: with PodLevelResources on, pod-level cpu/memory alone decide the class',
    property: fc.property(podCaseArb, containerCaseArb, ({ pod }, podLevel) => {
      const resources = podLevel.container.resources ?? {};
      const names = [...Object.keys(resources.requests ?? {}), ...Object.keys(resources.limits ?? {})];
      const withPodLevel: V1Pod = { ...pod, spec: { ...pod.spec!, resources } };
      const expected = names.some((n) => n === 'cpu' || n === 'memory') ? modelQOS([podLevel.model]) : podQOSClass(pod, GATE_OFF);
      return (
        podQOSClass(withPodLevel, { featureGates: { PodLevelResources: true } }) === expected &&
        podQOSClass(withPodLevel, GATE_OFF) === podQOSClass(pod, GATE_OFF)
      );
    }),
  },
  {
    name: 'qos: API defaulting (requests from limits) never lowers Guaranteed nor invents resources for BestEffort',
    property: fc.property(podCaseArb, ({ pod }) => {
      const before = podQOSClass(pod, GATE_OFF);
      const after = podQOSClass(defaultPodRequests(pod), GATE_OFF);
      if (before === 'Guaranteed' || before === 'BestEffort') return after === before;
      return after !== 'BestEffort';
    }),
  },
];
