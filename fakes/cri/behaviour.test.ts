import { describe, expect, it } from 'vitest';
import { decideBehaviour } from './behaviour.js';
import { CriError } from './errors.js';
import type { ContainerConfig, PodSandboxConfig } from './types.js';

function config(partial: Partial<Record<keyof ContainerConfig, unknown>>): ContainerConfig {
  return { metadata: { name: 'c', attempt: 0 }, image: { image: 'busybox' }, command: [], args: [], envs: [], annotations: {}, labels: {}, ...partial } as unknown as ContainerConfig;
}
const env = (vars: Record<string, string>) => Object.entries(vars).map(([key, value]) => ({ key, value: Buffer.from(value) }));
const sandbox = { portMappings: [{ containerPort: 8080, protocol: 'TCP', hostPort: 0, hostIp: '' }, { containerPort: 53, protocol: 'UDP', hostPort: 0, hostIp: '' }] } as unknown as PodSandboxConfig;

describe('choosing a container behaviour from its spec', () => {
  it('gives a container without FAKE_* knobs the defaults, even when other env vars are set', () => {
    const defaults = { exit: null, oomAfterMs: null, ignoreSigterm: false, termExitCode: 0, http: new Map(), tcp: [{ value: 'accept', forMs: null }], grpcHealth: [{ value: 'SERVING', forMs: null }], diskBytes: [{ value: 0, forMs: null }] };
    const shell = decideBehaviour(config({ command: ['sleep', '3600'], envs: env({ PATH: '/bin', FAKE: '1', XFAKE_EXIT_CODE: '3' }) }), null);
    expect(shell).toMatchObject({ ...defaults, kind: 'shell', ports: [], memoryBytes: [{ value: 512 * 1024, forMs: null }], cpuNanoCores: 100_000 });
    expect(decideBehaviour(config({ image: { image: 'nginx:1.27' } }), sandbox)).toMatchObject({ ...defaults, kind: 'server', ports: [{ port: 8080, kind: 'http' }], memoryBytes: [{ value: 8 * 2 ** 20, forMs: null }], cpuNanoCores: 2_000_000 });
    expect(decideBehaviour(config({ command: ['sleep', '1'], envs: env({ FAKE_EXIT_CODE: '4' }) }), null)).toMatchObject({ exit: { code: 4, afterMs: 0 }, memoryBytes: [{ value: 512 * 1024, forMs: null }] });
  });

  it('interprets shell commands and applets, and runs unknown entrypoints as servers', () => {
    expect(decideBehaviour(config({ command: ['sh', '-c', 'exit 1'] }), null)).toMatchObject({ kind: 'shell', argv: ['sh', '-c', 'exit 1'] });
    expect(decideBehaviour(config({ command: ['/bin/sleep'], args: ['10'] }), null)).toMatchObject({ kind: 'shell', argv: ['/bin/sleep', '10'] });
    expect(decideBehaviour(config({}), null)).toMatchObject({ kind: 'shell', argv: ['sh'] });
    expect(decideBehaviour(config({ image: { image: 'nginx:1.27' } }), null)).toMatchObject({ kind: 'server', argv: [] });
    expect(decideBehaviour(config({ command: ['/app/server', '--port=80'] }), null).kind).toBe('server');
  });

  it('serves annotated ports (grpc-named as gRPC) and falls back to sandbox TCP port mappings, for servers only', () => {
    const annotations = { 'io.kubernetes.container.ports': JSON.stringify([{ name: 'http', containerPort: 80, protocol: 'TCP' }, { name: 'grpc-health', containerPort: 9000, protocol: 'TCP' }, { containerPort: 53, protocol: 'UDP' }]) };
    expect(decideBehaviour(config({ image: { image: 'app:1' }, annotations }), sandbox).ports).toEqual([{ port: 80, kind: 'http' }, { port: 9000, kind: 'grpc' }]);
    expect(decideBehaviour(config({ image: { image: 'app:1' } }), sandbox).ports).toEqual([{ port: 8080, kind: 'http' }]);
    expect(decideBehaviour(config({ command: ['sleep', '60'], annotations }), sandbox).ports).toEqual([]);
    expect(decideBehaviour(config({ command: ['sleep', '60'], envs: env({ FAKE_TCP_PORTS: '7000', FAKE_GRPC_PORTS: '7001' }) }), null).ports).toEqual([{ port: 7000, kind: 'tcp' }, { port: 7001, kind: 'grpc' }]);
  });

  it('reads the FAKE_ knobs', () => {
    const b = decideBehaviour(
      config({ image: { image: 'app:1' }, envs: env({ FAKE_EXIT_CODE: '4', FAKE_EXIT_AFTER: '1m', FAKE_IGNORE_SIGTERM: 'true', FAKE_TCP: 'refuse for 5s then accept', FAKE_MEMORY_SCHEDULE: '1Mi for 1s then 2Mi' }) }),
      null,
    );
    expect(b.exit).toEqual({ code: 4, afterMs: 60_000 });
    expect(b.ignoreSigterm).toBe(true);
    expect(b.tcp).toEqual([{ value: 'refuse', forMs: 5_000 }, { value: 'accept', forMs: null }]);
    expect(b.memoryBytes).toEqual([{ value: 2 ** 20, forMs: 1_000 }, { value: 2 ** 21, forMs: null }]);
    expect(decideBehaviour(config({ envs: env({ FAKE_CRASH_LOOP: '3s' }) }), null).exit).toEqual({ code: 1, afterMs: 3_000 });
  });

  it('rejects malformed knobs and annotations with INVALID_ARGUMENT naming them', () => {
    const attempt = (envs: Record<string, string>, annotations = {}) => {
      try {
        decideBehaviour(config({ image: { image: 'app:1' }, envs: env(envs), annotations }), null);
        return 'accepted';
      } catch (err) {
        return err instanceof CriError ? `${err.code} ${err.message}` : String(err);
      }
    };
    expect(attempt({ FAKE_EXIT_CODE: '300' })).toBe('3 config.envs FAKE_EXIT_CODE: "300" is not an integer in [0, 255]');
    expect(attempt({ FAKE_GRPC_HEALTH: 'GOOD' })).toMatch(/^3 config.envs FAKE_GRPC_HEALTH: .*"GOOD" is not a gRPC health status/);
    expect(attempt({ FAKE_HTTP_PORTS: '80,x' })).toMatch(/^3 config.envs FAKE_HTTP_PORTS/);
    expect(attempt({}, { 'io.kubernetes.container.ports': '[oops' })).toMatch(/^3 config.annotations io.kubernetes.container.ports/);
    expect(attempt({ UNRELATED: 'x' })).toBe('accepted');
  });
});
