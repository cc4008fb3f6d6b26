import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal, match } from '../journal/journal.js';
import { startJournalSink, type JournalSink } from '../journal/sink.js';
import { seededUniform } from './faults.js';
import { installCniPlugin } from './install.js';
import { runCniPlugin, type PluginOutcome } from './plugin.js';
import type { SinkEntry } from '../journal/sink-client.js';

let dir: string;
let plugin: string;
let journal: Journal;
let sink: JournalSink;
let network = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kh-cni-'));
  plugin = await installCniPlugin(join(dir, 'bin'));
  journal = new Journal();
  sink = await startJournalSink({ socketPath: join(dir, 'journal.sock'), journal });
});
afterAll(async () => {
  await sink.close();
  await rm(dir, { recursive: true, force: true });
});

interface Exec {
  code: number | null;
  stdout: string;
  stderr: string;
  json: Record<string, unknown> | undefined;
  /** When the first stdout byte arrived (Date.now()). */
  stdoutAt: number | undefined;
}

function exec(env: Record<string, string>, stdin: string, file = plugin): Promise<Exec> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [], { env: { PATH: '/usr/bin:/bin', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let stdoutAt: number | undefined;
    child.stdout.on('data', (d: Buffer) => {
      stdoutAt ??= Date.now();
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      let json: Record<string, unknown> | undefined;
      try {
        json = stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json, stdoutAt });
    });
    child.stdin.end(stdin);
  });
}

/** A fresh network (own name, so its own IPAM state and call counters). */
function net(extra: Record<string, unknown> = {}, cniVersion = '1.0.0'): Record<string, unknown> {
  network++;
  return {
    cniVersion,
    name: `net${network}`,
    type: 'kubelet-harness-cni',
    subnet: '10.77.0.0/24',
    dataDir: join(dir, 'data'),
    journalSocket: sink.socketPath,
    ...extra,
  };
}

const call = (command: string, config: Record<string, unknown>, containerId = 'sandbox1', more: Record<string, string> = {}): Promise<Exec> =>
  exec(
    {
      CNI_COMMAND: command,
      CNI_CONTAINERID: containerId,
      CNI_NETNS: `/var/run/netns/${containerId}`,
      CNI_IFNAME: 'eth0',
      CNI_PATH: '/usr/lib/cni',
      CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_UID=uid-1',
      ...more,
    },
    JSON.stringify(config),
  );

describe('kubelet-harness-cni executed as a CNI plugin', { timeout: 60_000 }, () => {
  it('is installed as a wrapper running type-stripped JavaScript with an absolute node path', async () => {
    const script = readFileSync(plugin, 'utf8');
    expect(script).toContain(`exec '${process.execPath}' '${join(dir, 'bin', '.kubelet-harness-cni', 'fakes', 'cni', 'main.js')}' "$@"`);
    expect(statSync(plugin).mode & 0o755).toBe(0o755);
    const stripped = readFileSync(join(dir, 'bin', '.kubelet-harness-cni', 'fakes', 'cni', 'plugin.js'), 'utf8');
    expect(stripped).not.toMatch(/^import type /m);
    expect(existsSync(join(dir, 'bin', '.kubelet-harness-cni', 'fakes', 'journal', 'sink-client.js'))).toBe(true);
  });

  it('answers VERSION with the versions it supports', async () => {
    const r = await exec({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}');
    expect(r.code).toBe(0);
    expect(r.json).toEqual({ cniVersion: '1.1.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  });

  it('allocates an address of its own on a standalone ADD, checks it, and releases it on DEL', async () => {
    const config = net();
    const add = await call('ADD', config);
    expect(add.code, add.stdout + add.stderr).toBe(0);
    expect(add.json).toEqual({
      cniVersion: '1.0.0',
      interfaces: [{ name: 'eth0', mac: '0a:58:0a:4d:00:02', sandbox: '/var/run/netns/sandbox1' }],
      ips: [{ address: '10.77.0.2/24', gateway: '10.77.0.1', interface: 0 }],
      routes: [{ dst: '0.0.0.0/0', gw: '10.77.0.1' }],
      dns: {},
    });
    const entry = journal.last(match('cni', 'ADD', { network: config.name as string }));
    expect(entry?.subject).toMatchObject({ podSandboxId: 'sandbox1', ifname: 'eth0', podName: 'web', podNamespace: 'default', podUid: 'uid-1' });
    expect(entry?.response).toEqual(add.json);

    const second = await call('ADD', config, 'sandbox2');
    expect((second.json?.ips as Array<{ address: string }>)[0]?.address).toBe('10.77.0.3/24');
    const duplicate = await call('ADD', config);
    expect(duplicate.code).not.toBe(0);
    expect(duplicate.json).toMatchObject({ cniVersion: '1.0.0', code: 999, msg: expect.stringContaining('duplicate allocation') });

    const check = await call('CHECK', { ...config, prevResult: add.json });
    expect(check).toMatchObject({ code: 0, stdout: '' });
    const wrongPrev = await call('CHECK', { ...config, prevResult: second.json });
    expect(wrongPrev.code).not.toBe(0);

    expect(await call('DEL', config)).toMatchObject({ code: 0, stdout: '' });
    expect(await call('DEL', config)).toMatchObject({ code: 0, stdout: '' });
    const gone = await call('CHECK', { ...config, prevResult: add.json });
    expect(gone.json).toMatchObject({ code: 3 });
    // The released address is handed out again only after the rest of the range (round robin).
    const again = await call('ADD', config);
    expect((again.json?.ips as Array<{ address: string }>)[0]?.address).toBe('10.77.0.4/24');
  });

  it('passes the previous result through when chained', async () => {
    const prevResult = {
      cniVersion: '1.0.0',
      interfaces: [{ name: 'cni0', mac: '8a:1b:2c:3d:4e:5f' }, { name: 'eth0', mac: '0a:00:00:00:00:01', sandbox: '/var/run/netns/x' }],
      ips: [{ address: '10.88.0.7/16', gateway: '10.88.0.1', interface: 1 }],
      routes: [{ dst: '0.0.0.0/0' }],
      dns: {},
    };
    const config = net({ subnet: undefined, prevResult });
    const add = await call('ADD', config);
    expect(add.code).toBe(0);
    expect(add.json).toEqual(prevResult);
    expect(journal.last(match('cni', 'ADD', { network: config.name as string }))?.request).toMatchObject({ chained: true });
    expect(await call('CHECK', config)).toMatchObject({ code: 0 });
    expect(await call('DEL', config)).toMatchObject({ code: 0 });
  });

  it('writes 0.4.0 results with the IP version field', async () => {
    const add = await call('ADD', net({}, '0.4.0'));
    expect(add.json).toMatchObject({ cniVersion: '0.4.0', ips: [{ address: '10.77.0.2/24', version: '4', interface: 0 }] });
  });

  it('implements STATUS and GC from spec 1.1 and refuses them for older versions', async () => {
    const config = net({}, '1.1.0');
    expect(await call('STATUS', config)).toMatchObject({ code: 0, stdout: '' });
    const old = await call('STATUS', net({}, '1.0.0'));
    expect(old.json).toMatchObject({ code: 1, msg: 'incompatible CNI versions' });

    const a = await call('ADD', config, 'keep');
    const b = await call('ADD', config, 'stale');
    expect([a.code, b.code]).toEqual([0, 0]);
    const gc = await call('GC', { ...config, 'cni.dev/valid-attachments': [{ containerID: 'keep', ifname: 'eth0' }] });
    expect(gc).toMatchObject({ code: 0, stdout: '' });
    expect((await call('CHECK', { ...config, prevResult: a.json }, 'keep')).code).toBe(0);
    expect((await call('CHECK', { ...config, prevResult: b.json }, 'stale')).json).toMatchObject({ code: 3 });
    expect(journal.entries(match('cni', 'GC', { network: config.name as string }))).toHaveLength(1);
  });

  it('reports protocol errors as spec error JSON with a non-zero exit', async () => {
    const cases: Array<[Record<string, string>, string, number, string]> = [
      [{}, JSON.stringify(net()), 4, 'required env variables [CNI_COMMAND] missing'],
      [{ CNI_COMMAND: 'FROB' }, JSON.stringify(net()), 4, 'unknown CNI_COMMAND: FROB'],
      [{ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c', CNI_IFNAME: 'eth0', CNI_PATH: '/x' }, JSON.stringify(net()), 4, 'required env variables [CNI_NETNS] missing'],
      [{ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c', CNI_NETNS: '/n', CNI_IFNAME: 'eth0', CNI_PATH: '/x' }, '{not json', 6, 'failed to decode network config'],
      [{ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c', CNI_NETNS: '/n', CNI_IFNAME: 'eth0', CNI_PATH: '/x' }, '{"cniVersion":"1.0.0","type":"x"}', 7, 'invalid network config: name is required'],
      [{ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c', CNI_NETNS: '/n', CNI_IFNAME: 'eth0', CNI_PATH: '/x' }, JSON.stringify(net({}, '2.0.0')), 1, 'incompatible CNI versions'],
      [{ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'bad/id', CNI_NETNS: '/n', CNI_IFNAME: 'eth0', CNI_PATH: '/x' }, JSON.stringify(net()), 4, 'invalid characters in containerID'],
      [{ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c', CNI_NETNS: '/n', CNI_IFNAME: 'eth0', CNI_PATH: '/x' }, JSON.stringify(net({ subnet: '10.1.0.0/33' })), 7, 'invalid subnet "10.1.0.0/33"'],
      [{ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c', CNI_NETNS: '/n', CNI_IFNAME: 'eth0', CNI_PATH: '/x' }, JSON.stringify(net({ subnet: undefined })), 7, 'invalid network config: subnet is required when the plugin is not chained'],
      [{ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c', CNI_NETNS: '/n', CNI_IFNAME: 'eth0', CNI_PATH: '/x' }, JSON.stringify(net({ faults: [{ command: 'ADD', nth: 0, code: 11 }] })), 7, 'invalid network config: faults[0].nth: must be integers >= 1'],
    ];
    for (const [env, stdin, code, msg] of cases) {
      const r = await exec(env, stdin);
      expect(r.code, msg).toBe(1);
      expect(r.json, msg).toMatchObject({ code, msg });
      expect(typeof r.json?.cniVersion).toBe('string');
    }
  });

  it('injects faults from the network config by command and call number, journaled', async () => {
    const config = net({ faults: [{ command: 'ADD', nth: 2, code: 11, msg: 'injected: try again', details: 'fault rule 0' }] });
    expect((await call('ADD', config, 'f1')).code).toBe(0);
    const failed = await call('ADD', config, 'f2');
    expect(failed.json).toEqual({ cniVersion: '1.0.0', code: 11, msg: 'injected: try again', details: 'fault rule 0' });
    expect((await call('ADD', config, 'f3')).code).toBe(0);
    const entry = journal.last(match('cni', 'ADD', { podSandboxId: 'f2', network: config.name as string }));
    expect(entry?.error).toEqual({ code: 11, message: 'injected: try again' });

    const always = net({ faults: [{ command: 'DEL', probability: 1, code: 5 }, { command: 'ADD', probability: 0, code: 5 }] });
    expect((await call('ADD', always)).code).toBe(0);
    expect((await call('DEL', always)).json).toMatchObject({ code: 5, msg: 'injected DEL fault' });
    const delayed = net({ faults: [{ command: 'ADD', delayMs: 300 }] });
    const started = Date.now();
    expect((await call('ADD', delayed)).code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('draws seeded probabilities reproducibly', () => {
    const draws = (seed: number): number[] => Array.from({ length: 50 }, (_, i) => seededUniform(seed, 'ADD', i + 1));
    expect(draws(7)).toEqual(draws(7));
    expect(draws(7)).not.toEqual(draws(8));
    const mean = draws(3).reduce((a, b) => a + b, 0) / 50;
    expect(mean).toBeGreaterThan(0.3);
    expect(mean).toBeLessThan(0.7);
  });

  it('hands out distinct addresses to concurrent ADDs', async () => {
    const config = net();
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => call('ADD', config, `par${i}`)));
    const addresses = results.map((r) => (r.json?.ips as Array<{ address: string }> | undefined)?.[0]?.address);
    expect(results.map((r) => r.code)).toEqual(Array(8).fill(0));
    expect(new Set(addresses).size).toBe(8);
  });
});

describe('journal ordering across the process boundary', { timeout: 60_000 }, () => {
  it('writes the result only after the journal sink acknowledged the entry', async () => {
    const socketPath = join(dir, 'slow.sock');
    let ackAt = 0;
    const slow = createServer((socket) => {
      socket.once('data', () => {
        setTimeout(() => {
          ackAt = Date.now();
          socket.write('{"ok":true,"seq":1}\n');
        }, 300);
      });
    });
    await new Promise<void>((resolve) => slow.listen(socketPath, resolve));
    try {
      const r = await call('ADD', net({ journalSocket: socketPath }));
      expect(r.code).toBe(0);
      expect(ackAt).toBeGreaterThan(0);
      expect(r.stdoutAt).toBeGreaterThanOrEqual(ackAt);
    } finally {
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });

  it('fails ADD but not DEL when the journal sink is unreachable', async () => {
    const config = net({ journalSocket: join(dir, 'nobody.sock') });
    const add = await call('ADD', config);
    expect(add.json).toMatchObject({ code: 5, msg: expect.stringContaining('journal sink unavailable') });
    const del = await call('DEL', config);
    expect(del.code).toBe(0);
    expect(del.stderr).toContain('journal sink unavailable');
  });

  it('goes on with ADD when the config marks the journal sink optional, saying so on stderr', async () => {
    const config = net({ journalSocket: join(dir, 'nobody.sock'), journalSocketOptional: true });
    const add = await call('ADD', config);
    expect(add.code).toBe(0);
    expect(add.json).toMatchObject({ ips: [{ address: expect.stringMatching(/^10\.77\.0\.\d+\/24$/) }] });
    expect(add.stderr).toContain('journal sink unavailable');
    expect((await call('DEL', config)).code).toBe(0);
  });

  it('rejects a journalSocketOptional that is not a boolean, naming the field', async () => {
    const add = await call('ADD', net({ journalSocketOptional: 'yes' }));
    expect(add.json).toMatchObject({ code: 7, msg: 'invalid network config: journalSocketOptional must be a boolean' });
  });
});

const bridge = '/usr/lib/cni/bridge';
// Needs root and Debian's CNI plugins; in CI both are provisioned, so there a missing one fails instead of skipping.
const canNetns = (process.getuid?.() === 0 && existsSync(bridge)) || process.env['CI'] !== undefined;

describe.runIf(canNetns)('chained after the real bridge plugin in a network namespace', { timeout: 60_000 }, () => {
  it('passes bridge\'s result through and is journaled', async () => {
    const id = `kh${process.pid % 100000}`;
    const run = (cmd: string, args: string[]): Promise<number | null> =>
      new Promise((resolve) => spawn(cmd, args, { stdio: 'ignore' }).on('close', resolve));
    // A process in a fresh network namespace holds it; unlike `ip netns add`, this leaves no mount on the host.
    const holder = spawn('unshare', ['--net', 'sleep', '120'], { stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(holder.exitCode).toBeNull();
    const netnsPath = `/proc/${holder.pid}/ns/net`;
    const bridgeConfig = {
      cniVersion: '1.0.0',
      name: `khnet${id}`,
      type: 'bridge',
      bridge: `br${id}`.slice(0, 15),
      isGateway: true,
      ipMasq: false,
      ipam: { type: 'host-local', ranges: [[{ subnet: '10.213.7.0/24' }]], dataDir: join(dir, 'host-local') },
    };
    const env = { CNI_CONTAINERID: id, CNI_NETNS: netnsPath, CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni' };
    try {
      const added = await exec({ ...env, CNI_COMMAND: 'ADD' }, JSON.stringify(bridgeConfig), bridge);
      expect(added.code, added.stdout + added.stderr).toBe(0);
      const ours = net({ name: bridgeConfig.name, subnet: undefined, prevResult: added.json });
      const chained = await exec({ ...env, CNI_COMMAND: 'ADD' }, JSON.stringify(ours));
      expect(chained.code, chained.stdout).toBe(0);
      expect(chained.json).toEqual(added.json);
      expect((chained.json?.ips as Array<{ address: string }>)[0]?.address).toMatch(/^10\.213\.7\.\d+\/24$/);
      expect(journal.last(match('cni', 'ADD', { podSandboxId: id }))?.subject.netns).toBe(netnsPath);
      expect((await exec({ ...env, CNI_COMMAND: 'CHECK' }, JSON.stringify(ours))).code).toBe(0);
      expect((await exec({ ...env, CNI_COMMAND: 'DEL' }, JSON.stringify(ours))).code).toBe(0);
      const del = await exec({ ...env, CNI_COMMAND: 'DEL' }, JSON.stringify({ ...bridgeConfig, prevResult: added.json }), bridge);
      expect(del.code, del.stdout).toBe(0);
    } finally {
      holder.kill('SIGKILL');
      await run('ip', ['link', 'del', bridgeConfig.bridge]);
    }
  });
});

describe('the plugin run in-process with its config as an object', () => {
  const env = {
    CNI_COMMAND: 'ADD',
    CNI_CONTAINERID: 'c0ffee',
    CNI_NETNS: '/var/run/netns/cni-c0ffee',
    CNI_IFNAME: 'eth0',
    CNI_PATH: '/opt/cni/bin',
    CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_UID=u1',
  };
  const prevResult = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: env.CNI_NETNS }], ips: [{ address: '127.64.0.9/20', interface: 0 }], routes: [], dns: {} };

  async function both(config: Record<string, unknown>, command = 'ADD'): Promise<{ text: PluginRun; object: PluginRun }> {
    const run = async (stdin: string | Record<string, unknown>): Promise<PluginRun> => {
      const entries: SinkEntry[] = [];
      const outcome = await runCniPlugin({ env: { ...env, CNI_COMMAND: command }, stdin, journal: (e) => entries.push(e) });
      return { outcome, entries: JSON.parse(JSON.stringify(entries)) as unknown };
    };
    return { text: await run(JSON.stringify(config)), object: await run(config) };
  }

  it('answers and journals a chained ADD exactly as with the same config as JSON text, and hands back the result it prints', async () => {
    const { text, object } = await both({ cniVersion: '0.4.0', name: 'n', type: 'kubelet-harness-cni', prevResult });
    expect(object.outcome.exitCode).toBe(0);
    expect(object.outcome.stdout).toBe(text.outcome.stdout);
    expect(object.entries).toEqual(text.entries);
    expect(object.outcome.result).toEqual(JSON.parse(text.outcome.stdout));
    expect((object.outcome.result as { ips: Array<{ version?: string }> }).ips[0]?.version).toBe('4');
  });

  it('rejects a malformed config object with the error the same config as JSON text gets', async () => {
    for (const bad of [{ cniVersion: '1.0.0', type: 'kubelet-harness-cni' }, { cniVersion: '1.0.0', name: 'n', type: 'kubelet-harness-cni', prevResult: [] }, { cniVersion: '9.9.9', name: 'n', type: 't' }]) {
      const { text, object } = await both(bad);
      expect(object.outcome.exitCode).toBe(1);
      expect(object.outcome.stdout).toBe(text.outcome.stdout);
      expect(object.outcome.result).toBeUndefined();
      expect(object.entries).toEqual(text.entries);
    }
  });

  it('does not change the config object it was given', async () => {
    const config = { cniVersion: '0.3.1', name: 'n', type: 'kubelet-harness-cni', prevResult };
    const before = JSON.stringify(config);
    await both(config);
    await both(config, 'DEL');
    expect(JSON.stringify(config)).toBe(before);
  });
});

describe('the plugin run in-process, call after call', () => {
  const env = (command: string, args: string, netns = '/var/run/netns/cni-1') => ({
    CNI_COMMAND: command,
    CNI_CONTAINERID: 'sandbox1',
    CNI_NETNS: netns,
    CNI_IFNAME: 'eth0',
    CNI_PATH: '/opt/cni/bin',
    CNI_ARGS: args,
  });
  const config = { cniVersion: '1.0.0', name: 'n', type: 'kubelet-harness-cni' };
  const run = async (e: Record<string, string>): Promise<{ outcome: PluginOutcome; entry: SinkEntry | undefined }> => {
    let entry: SinkEntry | undefined;
    const outcome = await runCniPlugin({ env: e, stdin: config, journal: (x) => (entry = x) });
    return { outcome, entry };
  };
  const argsOf = (entry: SinkEntry | undefined): unknown => (entry?.request as { args?: unknown } | undefined)?.args;

  it('reads the same CNI_ARGS text the same way every time, into a separate object each call', async () => {
    const text = 'IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=web;K8S_POD_UID=u1';
    const first = await run(env('DEL', text));
    const second = await run(env('DEL', text));
    expect(argsOf(first.entry)).toEqual({ IgnoreUnknown: '1', K8S_POD_NAMESPACE: 'ns', K8S_POD_NAME: 'web', K8S_POD_UID: 'u1' });
    expect(argsOf(second.entry)).toEqual(argsOf(first.entry));
    expect(argsOf(second.entry)).not.toBe(argsOf(first.entry));
    (argsOf(first.entry) as Record<string, string>).K8S_POD_NAME = 'changed';
    expect(argsOf((await run(env('DEL', text))).entry)).toMatchObject({ K8S_POD_NAME: 'web' });
    const bad = await run(env('DEL', `${text};broken`));
    expect(bad.outcome.exitCode).toBe(1);
    expect(bad.outcome.stdout).toContain('invalid CNI_ARGS pair');
    expect(argsOf((await run(env('DEL', 'K8S_POD_NAME=other'))).entry)).toEqual({ K8S_POD_NAME: 'other' });
  });

  it('journals a subject without empty fields, its keys in a fixed order', async () => {
    const { entry } = await run(env('DEL', 'K8S_POD_UID=u1;K8S_POD_NAME=web;K8S_POD_NAMESPACE=', ''));
    expect(JSON.stringify(entry?.subject)).toBe('{"containerId":"sandbox1","podSandboxId":"sandbox1","ifname":"eth0","network":"n","podName":"web","podUid":"u1"}');
  });
});

interface PluginRun {
  outcome: PluginOutcome;
  entries: unknown;
}
