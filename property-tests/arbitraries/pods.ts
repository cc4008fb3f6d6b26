/**
 * Pods with container resources, each carrying a plain-number model of what was generated so
 * properties can state the expected outcome without calling the code under test.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import fc from 'fast-check';
import { bytesTextArb, cpuTextArb } from './quantity.js';

/** Request and limit of one resource; undefined = not set; values in millicores or bytes. */
export interface RequestLimitModel {
  readonly request: bigint | undefined;
  readonly limit: bigint | undefined;
}

export interface ContainerModel {
  readonly cpu: RequestLimitModel;
  readonly memory: RequestLimitModel;
  /** Names of non cpu/memory resources that were also set (ephemeral-storage, hugepages, GPUs). */
  readonly others: readonly string[];
}

export interface ContainerCase {
  readonly container: V1Container;
  readonly model: ContainerModel;
}

const OTHER_RESOURCES = ['ephemeral-storage', 'hugepages-2Mi', 'example.com/gpu'] as const;

/** Text for a request/limit value of `resource`; zero is written "0". */
function textArb(resource: 'cpu' | 'memory', value: bigint): fc.Arbitrary<string> {
  if (value === 0n) return fc.constantFrom('0', '0m', '0Mi');
  if (resource === 'cpu') return cpuTextArb(fc.constant(Number(value)));
  return bytesTextArb(fc.constant(value));
}

/**
 * One resource's request and limit: each unset, zero or positive; when both are positive the
 * request never exceeds the limit (API validation).
 */
function requestLimitArb(resource: 'cpu' | 'memory'): fc.Arbitrary<{ model: RequestLimitModel; request?: string; limit?: string }> {
  const unit = resource === 'cpu' ? 1n : 1024n * 1024n;
  const amount = fc.oneof(
    { weight: 1, arbitrary: fc.constant(0n) },
    { weight: 6, arbitrary: fc.bigInt({ min: 1n, max: 4000n }).map((n) => n * unit) },
  );
  return fc
    .record({
      request: fc.option(amount, { nil: undefined, freq: 3 }),
      limit: fc.option(amount, { nil: undefined, freq: 3 }),
      equal: fc.boolean(),
    })
    .map(({ request, limit, equal }) => {
      // Often make them equal (the Guaranteed shape), otherwise keep request <= limit.
      if (equal && limit !== undefined && request !== undefined) request = limit;
      if (request !== undefined && limit !== undefined && request > 0n && limit > 0n && request > limit) {
        [request, limit] = [limit, request];
      }
      return { request, limit };
    })
    .chain(({ request, limit }) =>
      fc.record({
        model: fc.constant<RequestLimitModel>({ request, limit }),
        request: request === undefined ? fc.constant(undefined) : textArb(resource, request),
        limit: limit === undefined ? fc.constant(undefined) : textArb(resource, limit),
      }),
    );
}

export const containerCaseArb: fc.Arbitrary<ContainerCase> = fc
  .record({
    cpu: requestLimitArb('cpu'),
    memory: requestLimitArb('memory'),
    others: fc.subarray([...OTHER_RESOURCES]),
    otherInLimits: fc.boolean(),
  })
  .map(({ cpu, memory, others, otherInLimits }) => {
    const requests: Record<string, string> = {};
    const limits: Record<string, string> = {};
    if (cpu.request !== undefined) requests.cpu = cpu.request;
    if (cpu.limit !== undefined) limits.cpu = cpu.limit;
    if (memory.request !== undefined) requests.memory = memory.request;
    if (memory.limit !== undefined) limits.memory = memory.limit;
    for (const name of others) {
      requests[name] = name === 'hugepages-2Mi' ? '2Mi' : '1';
      if (otherInLimits) limits[name] = requests[name];
    }
    const resources: V1Container['resources'] = {};
    if (Object.keys(requests).length > 0) resources.requests = requests;
    if (Object.keys(limits).length > 0) resources.limits = limits;
    return { container: { name: 'c', image: 'busybox', resources }, model: { cpu: cpu.model, memory: memory.model, others } };
  });

export interface PodCase {
  readonly pod: V1Pod;
  /** Models of every container that counts for QoS: regular and init (sidecars included). */
  readonly containers: readonly ContainerModel[];
}

/** A pod of 1–3 regular and 0–3 init containers, some of them restartable sidecars. */
export const podCaseArb: fc.Arbitrary<PodCase> = fc
  .record({
    regular: fc.array(containerCaseArb, { minLength: 1, maxLength: 3 }),
    init: fc.array(fc.tuple(containerCaseArb, fc.boolean()), { maxLength: 3 }),
  })
  .map(({ regular, init }) => {
    const containers = regular.map((c, i) => ({ ...c.container, name: `c${i}` }));
    const initContainers = init.map(([c, sidecar], i) => ({
      ...c.container,
      name: `i${i}`,
      ...(sidecar ? { restartPolicy: 'Always' } : {}),
    }));
    const pod: V1Pod = {
      metadata: { name: 'pod', namespace: 'default', uid: 'uid-pod' },
      spec: { containers, ...(initContainers.length > 0 ? { initContainers } : {}) },
    };
    return { pod, containers: [...regular.map((c) => c.model), ...init.map(([c]) => c.model)] };
  });
