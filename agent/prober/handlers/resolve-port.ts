import type { V1Container } from '@kubernetes/client-node';
import { ProberError } from './types.js';

/**
 * The port a probe targets (upstream probe.ResolveContainerPort): a number as is; a name looked up in
 * the container's `ports[].name`, falling back to a number written as a string. The result must lie
 * in 1..65535, otherwise a ProberError (the worker discards the run, so the probe never succeeds nor fails).
 * @example resolveContainerPort('http', { name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }) // 8080
 */
export function resolveContainerPort(port: number | string | undefined | null, container: Pick<V1Container, 'ports'>): number {
  let value: number;
  if (typeof port === 'number') {
    value = port;
  } else if (typeof port === 'string') {
    const named = (container.ports ?? []).find((p) => p.name === port);
    if (named !== undefined) {
      value = named.containerPort;
    } else if (/^[+-]?\d+$/.test(port)) {
      value = Number(port);
    } else {
      throw new ProberError(`port ${port} not found`);
    }
  } else {
    throw new ProberError(`intOrString had no kind: ${JSON.stringify(port)}`);
  }
  if (Number.isInteger(value) && value > 0 && value < 65536) return value;
  throw new ProberError(`invalid port number: ${value}`);
}
