import type { V1EnvVar } from '@kubernetes/client-node';
import { expandVars } from '../../kuberuntime/expansion.js';
import type { CriClient } from '../../runtime/cri-client.js';
import { CriError } from '../../runtime/rpc-error.js';
import { MAX_PROBE_OUTPUT_BYTES, type ProbeRun } from './types.js';

/**
 * `$(VAR)` in an exec probe's command (upstream ExpandContainerCommandOnlyStatic): only the container's
 * own `env` entries count, each by its literal `value` — an entry with `valueFrom` expands to "" — and
 * nothing from envFrom or the pod.
 * @example expandProbeCommand(['cat', '$(FILE)'], [{ name: 'FILE', value: '/tmp/ok' }]) // ['cat', '/tmp/ok']
 */
export function expandProbeCommand(command: readonly string[], env: readonly V1EnvVar[] | undefined): string[] {
  const values = new Map<string, string>();
  for (const e of env ?? []) values.set(e.name, e.value ?? '');
  return command.map((arg) => expandVars(arg, (name) => values.get(name)));
}

/**
 * The exec probe: CRI ExecSync with the probe's timeout (the runtime enforces it). Exit 0 succeeds,
 * any other exit code fails; a timeout fails (ExecProbeTimeout, GA). Any other runtime error is an
 * error of the prober (the worker discards it). Output = stdout then stderr, cut at 10 KiB.
 */
export async function execProbe(
  cri: Pick<CriClient, 'execSync'>,
  containerId: string,
  command: readonly string[],
  timeoutSeconds: number,
): Promise<ProbeRun> {
  try {
    const response = await cri.execSync({ containerId, cmd: [...command], timeout: timeoutSeconds });
    const output = capOutput(Buffer.concat([toBuffer(response.stdout), toBuffer(response.stderr)]));
    return { result: response.exitCode === 0 ? 'success' : 'failure', output };
  } catch (err) {
    if (CriError.is(err, 'DeadlineExceeded')) {
      return { result: 'failure', output: `command ${JSON.stringify(command.join(' '))} timed out` };
    }
    return { result: 'unknown', output: '', error: err instanceof Error ? err : new Error(String(err)) };
  }
}

function toBuffer(data: Buffer | Uint8Array | string | null | undefined): Buffer {
  if (data === null || data === undefined) return Buffer.alloc(0);
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
}

function capOutput(data: Buffer): string {
  return data.subarray(0, MAX_PROBE_OUTPUT_BYTES).toString('utf8');
}
