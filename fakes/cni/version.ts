import { CniError, CniErrorCode } from './errors.js';
import type { CniCommand, CniResult } from './types.js';

/** Spec versions this plugin speaks; results are written in the config's version. */
export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export const LATEST_VERSION = '1.1.0';

function parts(v: string): [number, number, number] {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
}

export function compareVersions(a: string, b: string): number {
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return (pa[i] as number) - (pb[i] as number);
  return 0;
}

/** Rejects a config version the plugin does not support, or a command the version lacks. */
export function checkVersion(cniVersion: string, command: CniCommand): void {
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(cniVersion)) {
    throw new CniError(
      CniErrorCode.IncompatibleVersion,
      'incompatible CNI versions',
      `config is "${cniVersion}", plugin supports ${JSON.stringify(SUPPORTED_VERSIONS)}`,
    );
  }
  const introduced: Partial<Record<CniCommand, string>> = { CHECK: '0.4.0', STATUS: '1.1.0', GC: '1.1.0' };
  const since = introduced[command];
  if (since && compareVersions(cniVersion, since) < 0) {
    throw new CniError(
      CniErrorCode.IncompatibleVersion,
      'incompatible CNI versions',
      `config version "${cniVersion}" does not allow ${command} (needs ${since} or later)`,
    );
  }
}

/** Writes a result in `cniVersion`'s shape: 0.3.x/0.4.0 carry an IP `version`, 1.x does not. */
export function resultForVersion(result: CniResult, cniVersion: string): CniResult {
  const legacy = compareVersions(cniVersion, '1.0.0') < 0;
  const ips = result.ips?.map((ip) => {
    const { version: _drop, ...rest } = ip;
    return legacy ? { ...rest, version: ip.address.includes(':') ? ('6' as const) : ('4' as const) } : rest;
  });
  return { ...result, cniVersion, ...(ips ? { ips } : {}) };
}
