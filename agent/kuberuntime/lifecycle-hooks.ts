import type { V1Container, V1LifecycleHandler, V1Pod } from '@kubernetes/client-node';
import type { Clock } from '../clock/clock.js';
import type { CriClient } from '../runtime/cri-client.js';
import { podName } from './pod-helpers.js';

/**
 * postStart/preStop handlers (upstream pkg/kubelet/lifecycle/handlers.go): exec through CRI ExecSync,
 * httpGet against the pod IP (or host) and resolved port, sleep on the clock. A failure returns a
 * message; callers decide what it means (postStart kills the container, preStop only logs).
 */

export interface HookContext {
  readonly cri: CriClient;
  readonly clock: Clock;
  readonly pod: V1Pod;
  readonly container: V1Container;
  readonly containerId: string;
  readonly podIP: string;
  /** Aborts the handler (preStop: when the grace period runs out). */
  readonly signal?: AbortSignal;
}

export class HookError extends Error {
  override readonly name = 'HookError';
}

/** Resolves an int-or-name port against the container's declared ports (upstream ResolveContainerPort). */
export function resolvePort(port: number | string | undefined, container: V1Container): number {
  if (typeof port === 'number') return port;
  if (port === undefined) throw new HookError('port is missing');
  if (/^\d+$/.test(port)) return Number(port);
  const found = (container.ports ?? []).find((p) => p.name === port);
  if (!found) throw new HookError(`couldn't find port: ${port} in ${container.name}`);
  return found.containerPort;
}

export async function runLifecycleHandler(handler: V1LifecycleHandler, ctx: HookContext): Promise<void> {
  if (handler.exec) {
    const cmd = handler.exec.command ?? [];
    let result;
    try {
      result = await ctx.cri.execSync({ containerId: ctx.containerId, cmd, timeout: 0 });
    } catch (e) {
      throw new HookError(`Exec lifecycle hook (${JSON.stringify(cmd)}) for Container "${ctx.container.name}" in Pod "${podName(ctx.pod)}" failed - error: ${(e as Error).message}`);
    }
    if (result.exitCode !== 0) {
      const out = Buffer.from(result.stdout).toString() + Buffer.from(result.stderr).toString();
      throw new HookError(
        `Exec lifecycle hook (${JSON.stringify(cmd)}) for Container "${ctx.container.name}" in Pod "${podName(ctx.pod)}" failed - error: command '${cmd.join(' ')}' exited with ${result.exitCode}: ${out}`,
      );
    }
    return;
  }
  if (handler.httpGet) {
    const g = handler.httpGet;
    const host = g.host || ctx.podIP;
    const port = resolvePort(g.port as number | string, ctx.container);
    const scheme = (g.scheme ?? 'HTTP').toLowerCase();
    const path = g.path ?? '/';
    const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}${path.startsWith('/') ? path : `/${path}`}`;
    const headers: Record<string, string> = {};
    for (const h of g.httpHeaders ?? []) headers[h.name] = h.value;
    let status: number;
    try {
      const init: RequestInit = { method: 'GET', headers };
      if (ctx.signal) init.signal = ctx.signal;
      const res = await fetch(url, init);
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
    } catch (e) {
      throw new HookError(`HTTP lifecycle hook (${path}) for Container "${ctx.container.name}" in Pod "${podName(ctx.pod)}" failed - error: ${(e as Error).message}`);
    }
    if (status < 200 || status >= 400) {
      throw new HookError(`HTTP lifecycle hook (${path}) for Container "${ctx.container.name}" in Pod "${podName(ctx.pod)}" failed - error: bad status code ${status}`);
    }
    return;
  }
  if (handler.sleep) {
    try {
      await ctx.clock.sleep(handler.sleep.seconds * 1000, ctx.signal);
    } catch {
      // Cut short by the grace period: not a failure of the hook.
    }
    return;
  }
  if (handler.tcpSocket) {
    throw new HookError('tcpSocket lifecycle handlers are not supported (deprecated upstream)');
  }
  throw new HookError('lifecycle handler names no action');
}
