/**
 * The resource defaulting the API server applies before anything else sees a pod (upstream
 * `SetDefaults_Pod` and `SetDefaults_ResourceList`, kubelet-semantics §1.5 and §7). The kubelet must
 * apply it itself to pods it decodes without an API server (static pods) before computing QoS.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { toQuantity } from './quantity.js';

/** Every quantity rounded up to milli precision, as SetDefaults_ResourceList does. */
function roundToMilli(list: Readonly<Record<string, string>> | undefined, field: string): Record<string, string> | undefined {
  if (list === undefined || list === null) return list;
  const out: Record<string, string> = {};
  for (const [name, text] of Object.entries(list)) {
    out[name] = toQuantity(text, `${field}.${name}`).roundUp(-3).toString();
  }
  return out;
}

function defaultContainer(container: V1Container, field: string): V1Container {
  const resources = container.resources;
  if (resources === undefined || resources === null) return container;
  const limits = roundToMilli(resources.limits, `${field}.resources.limits`);
  let requests = roundToMilli(resources.requests, `${field}.resources.requests`);
  if (limits !== undefined && Object.keys(limits).length > 0) {
    // A resource with a limit but no request gets request = limit.
    requests = { ...limits, ...(requests ?? {}) };
  }
  const defaulted = { ...resources };
  if (limits !== undefined) defaulted.limits = limits;
  if (requests !== undefined) defaulted.requests = requests;
  return { ...container, resources: defaulted };
}

/**
 * A copy of `pod` with container requests defaulted from limits and every container quantity
 * rounded up to milli precision. The input is not modified.
 * @example defaultPodRequests(pod).spec?.containers[0]?.resources?.requests // { cpu: '1', memory: '1Gi' } when only limits were given
 */
export function defaultPodRequests(pod: V1Pod): V1Pod {
  const spec = pod.spec;
  if (spec === undefined || spec === null) return pod;
  return {
    ...pod,
    spec: {
      ...spec,
      containers: (spec.containers ?? []).map((c, i) => defaultContainer(c, `spec.containers[${i}]`)),
      ...(spec.initContainers === undefined
        ? {}
        : { initContainers: spec.initContainers.map((c, i) => defaultContainer(c, `spec.initContainers[${i}]`)) }),
    },
  };
}
