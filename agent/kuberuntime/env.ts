import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { parseQuantity, type Quantity } from '../resources/quantity.js';
import { expandVars } from './expansion.js';
import { podName, podNamespace, podUid } from './pod-helpers.js';

/**
 * A container's environment as the kubelet builds it (upstream makeEnvironmentVariables): envFrom
 * sources first (configMap/secret keys with their prefix), then `env` in order, each value expanded
 * against what was defined before it and the service variables; later definitions win. Then the
 * service-link variables (service-env.ts) the container did not define itself.
 */

/** A start-time configuration problem; the container waits with reason CreateContainerConfigError. */
export class ContainerConfigError extends Error {
  override readonly name = 'ContainerConfigError';
  readonly reason = 'CreateContainerConfigError';
}

export interface EnvContext {
  readonly pod: V1Pod;
  readonly container: V1Container;
  readonly nodeName: string;
  readonly hostIPs: readonly string[];
  readonly podIPs: readonly string[];
  /** ConfigMap data by name in the pod's namespace (undefined: not found). */
  readonly configMap: (name: string) => Readonly<Record<string, string>> | undefined;
  /** Secret data by name, already base64-decoded (undefined: not found). */
  readonly secret: (name: string) => Readonly<Record<string, string>> | undefined;
  /** Node allocatable, used for limits.cpu/limits.memory of a container without limits. */
  readonly nodeAllocatable: { readonly cpuMilli: bigint; readonly memoryBytes: bigint };
  /** Service-link variables for the pod (serviceEnvForPod); none when the kubelet has no API server. */
  readonly serviceEnv?: ReadonlyMap<string, string>;
}

export interface EnvVar {
  readonly key: string;
  readonly value: string;
}

/** Valid env var names: C identifiers plus '-', '.', as the API validates them (IsEnvVarName). */
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

export function makeEnvironmentVariables(ctx: EnvContext): EnvVar[] {
  const env = new Map<string, string>();
  const ns = podNamespace(ctx.pod);
  for (const source of ctx.container.envFrom ?? []) {
    const prefix = source.prefix ?? '';
    if (source.configMapRef) {
      const name = source.configMapRef.name ?? '';
      const data = ctx.configMap(name);
      if (!data) {
        if (source.configMapRef.optional === true) continue;
        throw new ContainerConfigError(`configmap "${name}" not found`);
      }
      for (const [k, v] of Object.entries(data)) if (ENV_NAME.test(prefix + k)) env.set(prefix + k, v);
    } else if (source.secretRef) {
      const name = source.secretRef.name ?? '';
      const data = ctx.secret(name);
      if (!data) {
        if (source.secretRef.optional === true) continue;
        throw new ContainerConfigError(`secret "${name}" not found`);
      }
      for (const [k, v] of Object.entries(data)) if (ENV_NAME.test(prefix + k)) env.set(prefix + k, v);
    }
  }
  const serviceEnv = ctx.serviceEnv ?? new Map<string, string>();
  for (const v of ctx.container.env ?? []) {
    let value: string | undefined;
    // As upstream: an empty value counts as unset, so valueFrom still applies.
    if (v.value) {
      value = expandVars(v.value, (name) => env.get(name) ?? serviceEnv.get(name));
    } else if (v.valueFrom) {
      value = resolveValueFrom(ctx, v.name, v.valueFrom, ns);
      if (value === undefined) continue; // optional source missing
    } else {
      value = '';
    }
    env.set(v.name, value);
  }
  const out = [...env].map(([key, value]) => ({ key, value }));
  for (const [key, value] of serviceEnv) if (!env.has(key)) out.push({ key, value });
  return out;
}

function resolveValueFrom(
  ctx: EnvContext,
  envName: string,
  from: NonNullable<NonNullable<V1Container['env']>[number]['valueFrom']>,
  ns: string,
): string | undefined {
  if (from.fieldRef) return podFieldValue(ctx, from.fieldRef.fieldPath, envName);
  if (from.resourceFieldRef) {
    return resourceFieldValue(ctx, from.resourceFieldRef.resource, from.resourceFieldRef.divisor, envName);
  }
  if (from.configMapKeyRef) {
    const { name = '', key, optional } = from.configMapKeyRef;
    const data = ctx.configMap(name);
    if (!data) {
      if (optional === true) return undefined;
      throw new ContainerConfigError(`configmap "${name}" not found`);
    }
    const value = data[key];
    if (value === undefined) {
      if (optional === true) return undefined;
      throw new ContainerConfigError(`couldn't find key ${key} in ConfigMap ${ns}/${name}`);
    }
    return value;
  }
  if (from.secretKeyRef) {
    const { name = '', key, optional } = from.secretKeyRef;
    const data = ctx.secret(name);
    if (!data) {
      if (optional === true) return undefined;
      throw new ContainerConfigError(`secret "${name}" not found`);
    }
    const value = data[key];
    if (value === undefined) {
      if (optional === true) return undefined;
      throw new ContainerConfigError(`couldn't find key ${key} in Secret ${ns}/${name}`);
    }
    return value;
  }
  throw new ContainerConfigError(`env ${envName}: valueFrom names no supported source`);
}

function podFieldValue(ctx: EnvContext, path: string, envName: string): string {
  const meta = ctx.pod.metadata ?? {};
  const mapKey = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (mapKey) {
    const map = mapKey[1] === 'labels' ? meta.labels : meta.annotations;
    return map?.[mapKey[2]!] ?? '';
  }
  switch (path) {
    case 'metadata.name':
      return podName(ctx.pod);
    case 'metadata.namespace':
      return podNamespace(ctx.pod);
    case 'metadata.uid':
      return podUid(ctx.pod);
    case 'spec.nodeName':
      return ctx.nodeName;
    case 'spec.serviceAccountName':
      return ctx.pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
      return ctx.hostIPs[0] ?? '';
    case 'status.hostIPs':
      return ctx.hostIPs.join(',');
    case 'status.podIP':
      return ctx.podIPs[0] ?? '';
    case 'status.podIPs':
      return ctx.podIPs.join(',');
    default:
      throw new ContainerConfigError(`env ${envName}: unsupported fieldRef.fieldPath "${path}"`);
  }
}

function ceilDiv(a: bigint, b: bigint): bigint {
  if (b <= 0n) throw new ContainerConfigError('resourceFieldRef.divisor must be positive');
  return (a + b - 1n) / b;
}

function resourceFieldValue(ctx: EnvContext, resource: string, divisorText: string | undefined, envName: string): string {
  let divisor: Quantity;
  try {
    divisor = parseQuantity(divisorText ?? '1');
  } catch (e) {
    throw new ContainerConfigError(`env ${envName}: resourceFieldRef.divisor: ${(e as Error).message}`);
  }
  const [kind, name] = resource.split('.', 2) as [string, string | undefined];
  const list = kind === 'limits' ? ctx.container.resources?.limits : kind === 'requests' ? ctx.container.resources?.requests : undefined;
  if (list === undefined && kind !== 'limits' && kind !== 'requests') {
    throw new ContainerConfigError(`env ${envName}: unsupported resourceFieldRef.resource "${resource}"`);
  }
  const raw = name ? list?.[name] : undefined;
  let q: Quantity | undefined;
  try {
    q = raw !== undefined ? parseQuantity(raw) : undefined;
  } catch (e) {
    throw new ContainerConfigError(`env ${envName}: ${kind}.${name}: ${(e as Error).message}`);
  }
  if (name === 'cpu') {
    const milli = q?.milliValue() ?? (kind === 'limits' ? ctx.nodeAllocatable.cpuMilli : 0n);
    return ceilDiv(milli, divisor.milliValue()).toString();
  }
  if (name === 'memory' || name === 'ephemeral-storage' || name?.startsWith('hugepages-')) {
    const bytes = q?.value() ?? (kind === 'limits' && name === 'memory' ? ctx.nodeAllocatable.memoryBytes : 0n);
    return ceilDiv(bytes, divisor.value()).toString();
  }
  throw new ContainerConfigError(`env ${envName}: unsupported resourceFieldRef.resource "${resource}"`);
}
