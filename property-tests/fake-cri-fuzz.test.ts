import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCriClient, type CriClient } from '../agent/runtime/cri-client.js';
import { CriError } from '../agent/runtime/rpc-error.js';
import { startFakeCri, type FakeCri } from '../fakes/cri/server.js';

/**
 * Fuzzes the fake CRI server over the wire: 10,000 requests drawn over the CRI message shapes (valid
 * types, arbitrary values, IDs of live objects mixed with junk), then 500 calls with random bytes as the
 * request body. Every call must settle with a response or a deliberate gRPC status — never an INTERNAL
 * "fake-cri internal error" (a thrown bug), never a dropped connection — and the server must still
 * answer Version at the end.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const RAW_RUNS = 500;

let fake: FakeCri;
let cri: CriClient;
let logDir: string;
const sandboxes: string[] = [];
const containers: string[] = [];

beforeAll(async () => {
  logDir = mkdtempSync(join(tmpdir(), 'fake-cri-fuzz-'));
  fake = await startFakeCri({ journalBodies: false });
  cri = createCriClient({ runtimeEndpoint: fake.endpoint, timeoutMs: 5_000, backoff: { initialMs: 10, maxMs: 50 } });
  await cri.pullImage({ image: { image: 'busybox' } });
  // Live objects for the generated IDs to hit from the first request on, whatever the timing.
  for (let i = 0; i < 3; i++) {
    const config = { metadata: { name: `seed-${i}`, uid: `seed-${i}`, namespace: 'fuzz', attempt: 0 }, logDirectory: logDir };
    const { podSandboxId } = await cri.runPodSandbox({ config });
    sandboxes.push(podSandboxId);
    for (const [name, command] of [['sleeper', ['sleep', '3600']], ['looper', ['sh', '-c', 'while true; do echo tick; sleep 1; done']], ['server', ['/app/server']]] as const) {
      const { containerId } = await cri.createContainer({ podSandboxId, sandboxConfig: config, config: { metadata: { name, attempt: 0 }, image: { image: 'busybox' }, command: [...command], logPath: `${name}-${i}.log` } });
      await cri.startContainer({ containerId });
      containers.push(containerId);
    }
  }
});

afterAll(async () => {
  cri?.close();
  await fake?.close();
  rmSync(logDir, { recursive: true, force: true });
});

/** An ID: often one of a live object (or a prefix of it), sometimes junk. */
const id = (pool: 'sandbox' | 'container'): fc.Arbitrary<{ pool: typeof pool; index: number; mode: 'full' | 'prefix' | 'junk'; junk: string }> =>
  fc.record({
    pool: fc.constant(pool),
    index: fc.nat(50),
    mode: fc.constantFrom('full', 'full', 'prefix', 'junk'),
    junk: fc.oneof(fc.constant(''), fc.string({ maxLength: 70 }), fc.stringMatching(/^[0-9a-f]{1,64}$/)),
  });

type IdRef = { pool: 'sandbox' | 'container'; index: number; mode: 'full' | 'prefix' | 'junk'; junk: string };

function resolveId(ref: IdRef): string {
  const pool = ref.pool === 'sandbox' ? sandboxes : containers;
  if (ref.mode === 'junk' || pool.length === 0) return ref.junk;
  const full = pool[ref.index % pool.length]!;
  return ref.mode === 'full' ? full : full.slice(0, 1 + (ref.index % 12));
}

const text = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('', 'web', 'a b', 'ünï', '../x', '*'));
const labels = fc.dictionary(fc.constantFrom('app', 'tier', 'x', ''), text, { maxKeys: 3 });
const int64 = fc.oneof(fc.integer({ min: -5, max: 3 }).map(String), fc.constantFrom('0', '9223372036854775807', '-9223372036854775808'));
const image = fc.oneof(
  { arbitrary: fc.constant('busybox'), weight: 6 },
  fc.constantFrom('busybox', 'busybox:1.36', 'registry.invalid/x/does-not-exist:1', 'example.com/app:1', 'Bad Ref', '', `busybox@sha256:${'a'.repeat(64)}`),
  fc.string({ maxLength: 40 }),
);
const script = fc.oneof(
  fc.constantFrom(
    'exit 3',
    'echo hi; echo err >&2',
    'touch /tmp/a && cat /tmp/a; rm /tmp/a',
    "trap '' TERM; sleep 1",
    'while true; do sleep 0.2; done',
    'for i in 1 2 3; do echo $i; done > /tmp/out',
    'if [ -f /nope ]; then exit 1; else exit 0; fi',
    'httpd -p 8080 -h /tmp',
    'nc -l -p 9000',
    'echo "unterminated',
    'sleep 0.1 & wait',
    'wget -q -O- http://localhost:8080/',
  ),
  fc.string({ maxLength: 60 }),
);
const command = fc.oneof(
  script.map((s) => ['sh', '-c', s]),
  fc.constantFrom(['sleep', '1'], ['sleep', '600'], ['cat', '/proc/1/cmdline'], ['true'], ['false'], [], ['/app/server'], ['busybox', 'echo', 'x']),
  fc.array(fc.string({ maxLength: 10 }), { maxLength: 4 }),
);
const envs = fc.array(
  fc.record({
    key: fc.constantFrom('FAKE_EXIT_CODE', 'FAKE_EXIT_AFTER', 'FAKE_IGNORE_SIGTERM', 'FAKE_CRASH_LOOP', 'FAKE_HTTP_SCHEDULE', 'FAKE_TCP', 'FAKE_GRPC_HEALTH', 'FAKE_MEMORY_SCHEDULE', 'FAKE_DISK_SCHEDULE', 'FAKE_HTTP_PORTS', 'FAKE_OOM_AFTER', 'HOME', ''),
    // Sent as bytes: encodes whether KeyValue.value is declared string (upstream) or bytes.
    value: fc
      .oneof(fc.constantFrom('1', '0', '255', '300ms', '2s', 'true', 'refuse', 'accept for 1s then refuse', '/h=200 for 1s then 500', '10Mi for 1s then 1Gi', 'SERVING', '8080', '70000', ''), fc.string({ maxLength: 12 }))
      .map((v) => Buffer.from(v)),
  }),
  { maxLength: 3 },
);
const sandboxMetadata = fc.option(
  fc.record({ name: fc.oneof({ arbitrary: fc.uuid(), weight: 4 }, { arbitrary: text, weight: 1 }), uid: text, namespace: text, attempt: fc.nat(3) }),
  { nil: null, freq: 6 },
);
const sandboxConfig = fc.record({
  metadata: sandboxMetadata,
  hostname: text,
  logDirectory: fc.constantFrom('', 'LOGDIR', 'relative/dir'),
  labels,
  annotations: labels,
  portMappings: fc.array(fc.record({ containerPort: fc.integer({ min: -1, max: 70000 }), protocol: fc.constantFrom('TCP', 'UDP') }), { maxLength: 2 }),
});
const containerFilter = fc.option(
  fc.record({ id: fc.option(id('container'), { nil: undefined }), podSandboxId: fc.option(id('sandbox'), { nil: undefined }), state: fc.option(fc.record({ state: fc.constantFrom('CONTAINER_CREATED', 'CONTAINER_RUNNING', 'CONTAINER_EXITED', 'CONTAINER_UNKNOWN') }), { nil: undefined }), labelSelector: labels }),
  { nil: undefined },
);

/** A request: the RPC name and a body whose IdRefs are resolved just before sending. */
const request = fc.oneof(
  fc.record({ rpc: fc.constant('version'), body: fc.record({ version: text }) }),
  fc.record({ rpc: fc.constant('status'), body: fc.record({ verbose: fc.boolean() }) }),
  fc.record({ rpc: fc.constant('runPodSandbox'), body: fc.record({ config: fc.option(sandboxConfig, { nil: null, freq: 8 }), runtimeHandler: fc.constantFrom('', '', 'runc', 'kata') }) }),
  fc.record({ rpc: fc.constantFrom('stopPodSandbox', 'removePodSandbox', 'podSandboxStatus', 'podSandboxStats'), body: fc.record({ podSandboxId: id('sandbox'), verbose: fc.boolean() }) }),
  fc.record({ rpc: fc.constant('listPodSandbox'), body: fc.record({ filter: fc.option(fc.record({ id: fc.option(id('sandbox'), { nil: undefined }), state: fc.option(fc.record({ state: fc.constantFrom('SANDBOX_READY', 'SANDBOX_NOTREADY') }), { nil: undefined }), labelSelector: labels }), { nil: undefined }) }) }),
  fc.record({
    rpc: fc.constant('createContainer'),
    body: fc.record({
      podSandboxId: id('sandbox'),
      config: fc.option(
        fc.record({
          metadata: fc.option(fc.record({ name: fc.oneof({ arbitrary: fc.uuid(), weight: 4 }, { arbitrary: text, weight: 1 }), attempt: fc.nat(3) }), { nil: null, freq: 6 }),
          image: fc.option(fc.record({ image }), { nil: null, freq: 6 }),
          command,
          args: fc.array(fc.string({ maxLength: 8 }), { maxLength: 2 }),
          envs,
          labels,
          annotations: fc.oneof(labels, fc.constant({ 'io.kubernetes.container.ports': '[{"name":"http","containerPort":8081,"protocol":"TCP"}]' }), fc.constant({ 'io.kubernetes.container.ports': '{bad json' })),
          logPath: fc.constantFrom('', 'c/0.log', '../../escape.log'),
          mounts: fc.array(fc.record({ containerPath: fc.constantFrom('/data', '', '/'), hostPath: fc.constantFrom('LOGDIR', '', '/nonexistent'), readonly: fc.boolean() }), { maxLength: 1 }),
          linux: fc.option(fc.record({ resources: fc.record({ memoryLimitInBytes: int64, cpuShares: int64 }) }), { nil: null }),
          stopSignal: fc.constantFrom('SIGNAL_RUNTIME_DEFAULT', 'SIGNAL_SIGINT', 'SIGNAL_SIGKILL'),
        }),
        { nil: null, freq: 8 },
      ),
      sandboxConfig: fc.option(sandboxConfig, { nil: null }),
    }),
  }),
  fc.record({ rpc: fc.constantFrom('startContainer', 'removeContainer', 'containerStatus', 'reopenContainerLog', 'containerStats'), body: fc.record({ containerId: id('container'), verbose: fc.boolean() }) }),
  fc.record({ rpc: fc.constant('stopContainer'), body: fc.record({ containerId: id('container'), timeout: int64 }) }),
  fc.record({ rpc: fc.constant('execSync'), body: fc.record({ containerId: id('container'), cmd: command, timeout: int64 }) }),
  fc.record({ rpc: fc.constant('listContainers'), body: fc.record({ filter: containerFilter }) }),
  fc.record({ rpc: fc.constant('listContainerStats'), body: fc.record({ filter: containerFilter }) }),
  fc.record({ rpc: fc.constant('listPodSandboxStats'), body: fc.record({ filter: fc.option(fc.record({ id: fc.option(id('sandbox'), { nil: undefined }), labelSelector: labels }), { nil: undefined }) }) }),
  fc.record({ rpc: fc.constant('updateContainerResources'), body: fc.record({ containerId: id('container'), linux: fc.option(fc.record({ memoryLimitInBytes: int64, cpuQuota: int64, cpusetCpus: text }), { nil: null }) }) }),
  fc.record({ rpc: fc.constantFrom('pullImage', 'imageStatus', 'removeImage'), body: fc.record({ image: fc.option(fc.record({ image }), { nil: null, freq: 6 }), verbose: fc.boolean() }) }),
  fc.record({ rpc: fc.constantFrom('listImages', 'imageFsInfo', 'runtimeConfig'), body: fc.constant({}) }),
  fc.record({ rpc: fc.constant('updateRuntimeConfig'), body: fc.record({ runtimeConfig: fc.option(fc.record({ networkConfig: fc.record({ podCidr: text }) }), { nil: null }) }) }),
  fc.record({ rpc: fc.constantFrom('exec', 'attach', 'portForward', 'checkpointContainer'), body: fc.record({ containerId: id('container') }) }),
);

function materialize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(materialize);
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if ('pool' in v && 'mode' in v && 'junk' in v) return resolveId(v as unknown as IdRef);
    const out: Record<string, unknown> = {};
    for (const [k, inner] of Object.entries(v)) {
      if (inner === undefined) continue;
      out[k] = inner === 'LOGDIR' ? logDir : materialize(inner);
    }
    return out;
  }
  return value === 'LOGDIR' ? logDir : value;
}

/** Status codes a call may legitimately end with (client-side deadlines included). */
const ACCEPTABLE = new Set(['InvalidArgument', 'NotFound', 'Unknown', 'Unimplemented', 'DeadlineExceeded', 'FailedPrecondition', 'AlreadyExists', 'ResourceExhausted']);

describe('the fake CRI server under fuzzed requests', () => {
  it(`answers ${RUNS} generated requests without an internal error and keeps serving`, async () => {
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(request, async ({ rpc, body }) => {
        const req = materialize(body);
        const call = (cri as unknown as Record<string, (r: unknown, o?: unknown) => Promise<Record<string, unknown>>>)[rpc]!;
        let outcome: string;
        // RemoveImage may have taken it away; re-pull the common image so creation gets past lookup.
        if (rpc === 'createContainer') await cri.pullImage({ image: { image: 'busybox' } });
        try {
          const res = await call.call(cri, req, { timeoutMs: 3_000 });
          if (rpc === 'runPodSandbox' && typeof res.podSandboxId === 'string') sandboxes.push(res.podSandboxId);
          if (rpc === 'createContainer' && typeof res.containerId === 'string') containers.push(res.containerId);
          outcome = 'OK';
        } catch (err) {
          if (!(err instanceof CriError)) throw err;
          outcome = err.kind;
          if (!ACCEPTABLE.has(err.kind)) throw new Error(`${rpc} ${JSON.stringify(req)} -> ${err.message}`);
        }
        outcomes.set(`${rpc} ${outcome}`, (outcomes.get(`${rpc} ${outcome}`) ?? 0) + 1);
      }),
      { numRuns: RUNS, seed: 20261127 },
    );
    console.log([...outcomes].sort().map(([k, n]) => `${k}: ${n}`).join(', '));
    const version = await cri.version({ version: "v1" });
    expect(version.runtimeApiVersion).toBe('v1');
    // The fuzz must reach past validation: objects were created and driven by the generated calls.
    expect(sandboxes.length).toBeGreaterThan(3 + 20);
    expect(containers.length).toBeGreaterThan(9 + 5);
    expect([...outcomes.keys()].filter((k) => k.endsWith(' OK')).length).toBeGreaterThan(15);
  }, 600_000);

  it(`survives ${RAW_RUNS} requests whose bodies are random bytes`, async () => {
    const client = new grpc.Client(`unix:${fake.socketPath}`, grpc.credentials.createInsecure());
    const methods = ['/runtime.v1.RuntimeService/RunPodSandbox', '/runtime.v1.RuntimeService/CreateContainer', '/runtime.v1.RuntimeService/ExecSync', '/runtime.v1.ImageService/PullImage', '/runtime.v1.RuntimeService/ListContainers'];
    try {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...methods), fc.uint8Array({ maxLength: 200 }), async (method, bytes) => {
          const code = await new Promise<number>((resolve) => {
            client.makeUnaryRequest(
              method,
              (b: Buffer) => b,
              (b: Buffer) => b,
              Buffer.from(bytes),
              new grpc.Metadata(),
              { deadline: Date.now() + 1_500 },
              (err) => resolve(err ? err.code : 0),
            );
          });
          expect([grpc.status.OK, grpc.status.INTERNAL, grpc.status.INVALID_ARGUMENT, grpc.status.NOT_FOUND, grpc.status.UNKNOWN, grpc.status.DEADLINE_EXCEEDED]).toContain(code);
        }),
        { numRuns: RAW_RUNS, seed: 7 },
      );
    } finally {
      client.close();
    }
    expect((await cri.version({})).runtimeApiVersion).toBe('v1');
  }, 300_000);
});
