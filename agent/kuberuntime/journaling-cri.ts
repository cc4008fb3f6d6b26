import type { Journal } from '../../fakes/journal/journal.js';
import type { CriClient } from '../runtime/cri-client.js';

/**
 * A CRI client that records every unary call the agent makes in a journal (source 'agent'), with
 * request, response or error: kubelet-level ordering specs read the agent's own view of the runtime,
 * so they hold on runtimes that keep no journal of their own (containerd).
 */
export function journalingCriClient(inner: CriClient, journal: Journal): CriClient {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop !== 'string' || typeof value !== 'function' || prop === 'close') {
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      }
      const rpc = prop.charAt(0).toUpperCase() + prop.slice(1);
      return (request: Record<string, unknown> = {}, options?: unknown) => {
        const result = (value as (r: unknown, o?: unknown) => unknown).call(target, request, options);
        if (!(result instanceof Promise)) return result; // streams pass through unrecorded
        return result.then(
          (response: unknown) => {
            journal.append({ source: 'agent', kind: 'rpc', name: rpc, subject: subjectOf(request, response), request, response });
            return response;
          },
          (error: unknown) => {
            const e = error as { kind?: string; code?: number; message?: string };
            journal.append({
              source: 'agent',
              kind: 'rpc',
              name: rpc,
              subject: subjectOf(request, undefined),
              request,
              error: { code: e.kind ?? e.code ?? 'UNKNOWN', message: e.message ?? String(error) },
            });
            throw error;
          },
        );
      };
    },
  });
}

function subjectOf(request: Record<string, unknown>, response: unknown): Record<string, string> {
  const res = (response ?? {}) as Record<string, unknown>;
  const subject: Record<string, string> = {};
  const sandbox = request['podSandboxId'] ?? res['podSandboxId'];
  const container = request['containerId'] ?? res['containerId'];
  if (typeof sandbox === 'string' && sandbox) subject['podSandboxId'] = sandbox;
  if (typeof container === 'string' && container) subject['containerId'] = container;
  const config = request['config'] as { metadata?: { name?: string; uid?: string } } | undefined;
  if (config?.metadata?.name) subject['name'] = config.metadata.name;
  if (config?.metadata?.uid) subject['podUid'] = config.metadata.uid;
  return subject;
}
