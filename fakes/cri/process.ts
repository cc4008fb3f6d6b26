import * as http from 'node:http';
import type { Clock, TimerHandle } from '../../agent/clock/clock.js';
import type { Journal } from '../journal/journal.js';
import { httpScheduleFor, type ContainerBehaviour } from './behaviour.js';
import type { CriLogWriter } from './cri-log.js';
import type { Listener, PodNetwork } from './network.js';
import { nextChangeAt, valueAt, type Schedule } from './schedule.js';
import { ProcessControl } from './shell/control.js';
import type { ContainerFs } from './shell/fs.js';
import { MAX_TIMER_MS, runProcess, type ShellHost, type ShellIo, type ShellStdin } from './shell/interpreter.js';
import { StdinQueue } from './stdin-queue.js';

export interface ExitInfo {
  readonly code: number;
  /** 'OOMKilled' when the memory limit killed it; otherwise the runtime derives Completed/Error. */
  readonly oomKilled: boolean;
}

export interface ProcessContext {
  readonly containerId: string;
  readonly podSandboxId: string;
  readonly behaviour: ContainerBehaviour;
  readonly clock: Clock;
  readonly journal: Journal;
  readonly fs: ContainerFs;
  readonly network: PodNetwork | null;
  readonly logs: CriLogWriter | null;
  readonly hostname: string;
  readonly cwd: string;
  readonly user?: { readonly uid: number; readonly gid: number };
  /** Current memory limit in bytes (0 = none); read again after UpdateContainerResources. */
  readonly memoryLimit: () => number;
  /** The container config's stdin (the main program reads what attached clients send) and stdinOnce. */
  readonly stdin?: { readonly once: boolean };
}

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** containerd caps each ExecSync stream at 16 MiB. */
const MAX_EXEC_OUTPUT = 16 * 1024 * 1024;

/**
 * One running scripted container: its main program on the clock, its listeners on the pod IP, its log
 * output, and the exec'd processes that share its file system and die with it.
 */
export class ContainerProcess {
  readonly exited: Promise<ExitInfo>;
  readonly startedAt: number;
  private resolveExit!: (info: ExitInfo) => void;
  private done: ExitInfo | null = null;
  private readonly control = new ProcessControl(true);
  private readonly timers: TimerHandle[] = [];
  private readonly listeners: Listener[] = [];
  private oomTimer: TimerHandle | null = null;
  /** Attached clients: they see what the main program writes from the moment they attach. */
  private readonly attached = new Set<ShellIo>();
  /** The main program's stdin, when the container declares one. */
  private readonly stdin: StdinQueue | null;

  constructor(private readonly ctx: ProcessContext) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
    this.startedAt = ctx.clock.monotonic();
    this.stdin = ctx.stdin ? new StdinQueue() : null;
    const b = ctx.behaviour;
    if (b.ignoreSigterm) this.control.traps.set('TERM', '');
    if (b.exit && b.exit.afterMs <= MAX_TIMER_MS) this.timers.push(ctx.clock.setTimeout(() => this.finish(b.exit!.code, false), b.exit.afterMs));
    if (b.oomAfterMs !== null && b.oomAfterMs <= MAX_TIMER_MS) this.timers.push(ctx.clock.setTimeout(() => this.finish(137, true), b.oomAfterMs));
    this.rescheduleOom();
    void this.openPorts();
    if (b.kind === 'shell') {
      runProcess(b.argv, {
        fs: ctx.fs,
        env: b.env,
        clock: ctx.clock,
        control: this.control,
        io: { stdout: (t) => this.output('stdout', t), stderr: (t) => this.output('stderr', t) },
        host: this.shellHost(),
        cwd: ctx.cwd,
        hostname: ctx.hostname,
        ...(ctx.user ? { user: ctx.user } : {}),
        ...(this.stdin ? { stdin: this.stdin } : {}),
      }).then(
        (code) => this.finish(code, false),
        (err: unknown) => {
          ctx.logs?.write('stderr', `fake runtime: ${(err as Error).message}\n`);
          this.finish(128, false);
        },
      );
    }
  }

  get running(): boolean {
    return this.done === null;
  }

  /** Milliseconds of clock time since the process started (schedules are relative to this). */
  elapsed(): number {
    return this.ctx.clock.monotonic() - this.startedAt;
  }

  /** Sends a signal as the runtime's kill would; PID 1 semantics apply (see ProcessControl). */
  signal(name: 'TERM' | 'KILL' | 'INT' | 'HUP' | 'QUIT' | 'USR1' | 'USR2'): 'ignored' | 'trapped' | 'terminated' {
    if (this.done) return 'ignored';
    if (name === 'KILL') {
      this.finish(137, false);
      return 'terminated';
    }
    if (this.ctx.behaviour.kind === 'server') {
      // An application entrypoint installs its own handlers: it exits on TERM unless told to ignore it.
      if (name === 'TERM' && !this.ctx.behaviour.ignoreSigterm) {
        this.finish(this.ctx.behaviour.termExitCode, false);
        return 'terminated';
      }
      return 'ignored';
    }
    return this.control.deliver(name);
  }

  /** UpdateContainerResources changed the memory limit: the schedule may now exceed it. */
  rescheduleOom(): void {
    this.oomTimer?.cancel();
    this.oomTimer = null;
    const limit = this.ctx.memoryLimit();
    if (limit <= 0 || this.done) return;
    const at = firstTimeAbove(this.ctx.behaviour.memoryBytes, limit, this.elapsed());
    if (at === null || at - this.elapsed() > MAX_TIMER_MS) return;
    this.oomTimer = this.ctx.clock.setTimeout(() => this.finish(137, true), Math.max(0, at - this.elapsed()));
  }

  memoryBytes(): number {
    return valueAt(this.ctx.behaviour.memoryBytes, this.elapsed());
  }

  async exec(argv: readonly string[], timeoutMs: number): Promise<ExecResult> {
    const control = new ProcessControl(false);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const cap = (buf: string, t: string): string => (buf.length >= MAX_EXEC_OUTPUT ? buf : (buf + t).slice(0, MAX_EXEC_OUTPUT));
    const timer = timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS ? this.ctx.clock.setTimeout(() => ((timedOut = true), control.kill()), timeoutMs) : null;
    const stopWithContainer = (): void => control.kill();
    void this.exited.then(stopWithContainer);
    try {
      const exitCode = await runProcess(argv, {
        fs: this.ctx.fs,
        env: this.ctx.behaviour.env,
        clock: this.ctx.clock,
        control,
        io: { stdout: (t) => (stdout = cap(stdout, t)), stderr: (t) => (stderr = cap(stderr, t)) },
        host: this.shellHost(),
        cwd: this.ctx.cwd,
        hostname: this.ctx.hostname,
        ...(this.ctx.user ? { user: this.ctx.user } : {}),
      });
      return { exitCode, stdout, stderr, timedOut };
    } finally {
      timer?.cancel();
    }
  }

  /**
   * A streaming exec (CRI Exec through the streaming server): output goes out as it is written, stdin
   * comes from the client; no timeout; it dies with the container or when `signal` aborts (the client left).
   */
  async execStreaming(argv: readonly string[], io: ShellIo, stdin: ShellStdin | undefined, signal: AbortSignal): Promise<number> {
    const control = new ProcessControl(false);
    const kill = (): void => control.kill();
    void this.exited.then(kill);
    signal.addEventListener('abort', kill, { once: true });
    try {
      return await runProcess(argv, {
        fs: this.ctx.fs,
        env: this.ctx.behaviour.env,
        clock: this.ctx.clock,
        control,
        io,
        host: this.shellHost(),
        cwd: this.ctx.cwd,
        hostname: this.ctx.hostname,
        ...(this.ctx.user ? { user: this.ctx.user } : {}),
        ...(stdin ? { stdin } : {}),
      });
    } finally {
      signal.removeEventListener('abort', kill);
    }
  }

  /**
   * CRI Attach: the main program's output from now on, until the container exits (resolves) or
   * `signal` aborts (the client left).
   */
  async attach(io: ShellIo, signal: AbortSignal): Promise<void> {
    if (this.done) return;
    this.attached.add(io);
    try {
      await Promise.race([this.exited, new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))]);
    } finally {
      this.attached.delete(io);
    }
  }

  /**
   * An attached client's input, passed to the main program's stdin until the client's input ends; with
   * stdinOnce that end closes the container's stdin. A container without stdin drops it.
   */
  async feedStdin(input: ShellStdin): Promise<void> {
    for (let chunk = await input.read(); chunk !== null; chunk = await input.read()) this.stdin?.push(chunk);
    if (this.ctx.stdin?.once) this.stdin?.end();
  }

  private output(stream: 'stdout' | 'stderr', text: string): void {
    this.ctx.logs?.write(stream, text);
    for (const io of this.attached) io[stream](text);
  }

  private finish(code: number, oomKilled: boolean): void {
    if (this.done) return;
    this.done = { code, oomKilled };
    this.control.kill(code);
    for (const t of this.timers) t.cancel();
    this.oomTimer?.cancel();
    for (const l of this.listeners.splice(0)) l.close();
    this.ctx.network?.closeOwnedBy(this.ctx.containerId);
    this.ctx.logs?.flush();
    this.resolveExit(this.done);
  }

  private async openPorts(): Promise<void> {
    const { behaviour: b, network } = this.ctx;
    if (!network || b.ports.length === 0) return;
    const open = async (): Promise<void> => {
      for (const { port, kind } of b.ports) {
        if (this.done || this.listeners.some((l) => l.port === port)) continue;
        try {
          let listener: Listener;
          if (kind === 'grpc') {
            listener = await network.listenGrpcHealth(port, this.ctx.containerId, () => valueAt(b.grpcHealth, this.elapsed()));
          } else if (kind === 'tcp') {
            listener = await network.listenTcp(port, this.ctx.containerId);
          } else {
            listener = await network.listenHttp(port, this.ctx.containerId, (path) => {
              const status = valueAt(httpScheduleFor(b, path), this.elapsed());
              return { status, body: status < 400 ? 'ok\n' : `status ${status}\n` };
            });
          }
          if (this.done) listener.close();
          else this.listeners.push(listener);
        } catch (err) {
          this.ctx.logs?.write('stderr', `listen tcp ${network.ip}:${port}: ${(err as Error).message}\n`);
          if (b.kind === 'server') this.finish(1, false);
          return;
        }
      }
    };
    const close = (): void => {
      for (const l of this.listeners.splice(0)) l.close();
    };
    // FAKE_TCP switches between listening and not listening (connection refused) over time.
    const apply = async (): Promise<void> => {
      if (this.done) return;
      if (valueAt(b.tcp, this.elapsed()) === 'accept') await open();
      else close();
      const next = nextChangeAt(b.tcp, this.elapsed());
      if (next !== null && next - this.elapsed() <= MAX_TIMER_MS) this.timers.push(this.ctx.clock.setTimeout(() => void apply(), next - this.elapsed()));
    };
    await apply();
  }

  private shellHost(): ShellHost {
    const network = this.ctx.network;
    const id = this.ctx.containerId;
    return {
      serveHttp: async (port, handler) => {
        if (!network) throw new Error('no pod network');
        return network.listenHttp(port, id, (path) => handler(path));
      },
      serveTcp: async (port) => {
        if (!network) throw new Error('no pod network');
        return network.listenTcp(port, id);
      },
      httpGet: (url, signal) => httpGet(url, network?.ip ?? '127.0.0.1', signal),
    };
  }
}

/** The first elapsed time (>= from) at which a schedule's value exceeds the limit, or null. */
export function firstTimeAbove(schedule: Schedule<number>, limit: number, from: number): number | null {
  let start = 0;
  for (const phase of schedule) {
    const end = phase.forMs === null ? Number.POSITIVE_INFINITY : start + phase.forMs;
    if (phase.value > limit && end > from) return Math.max(start, from);
    start = end;
  }
  return null;
}

function httpGet(url: string, podIp: string, signal: AbortSignal): Promise<{ status: number; statusText: string; body: string }> {
  return new Promise((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(url.includes('://') ? url : `http://${url}`);
    } catch {
      reject(new Error(`bad address '${url}'`));
      return;
    }
    if (target.hostname === 'localhost' || target.hostname === '127.0.0.1' || target.hostname === '') target.hostname = podIp;
    const req = http.get(target, { signal, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}
