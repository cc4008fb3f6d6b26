import { posix } from 'node:path';
import type { Clock } from '../../../agent/clock/clock.js';
import { MAX_TIMER_MS, ProcessControl, ProcessKilled, SIGNALS, signalName } from './control.js';
import { FsError, type ContainerFs } from './fs.js';
import { parseScript, ShellSyntaxError, type AndOr, type Command, type List, type Word } from './parse.js';

export interface ShellIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** A process's standard input (a streaming exec with stdin); without one, stdin is closed. */
export interface ShellStdin {
  /** The next chunk of input, or null at end of input. */
  read(): Promise<string | null>;
}

/** A listener a command opened (busybox httpd, nc -l); closed when the process ends. */
export interface Listener {
  close(): void;
}

/** What the shell needs from the outside world besides files: the pod network. */
export interface ShellHost {
  /** Serves HTTP on the pod IP (busybox `httpd`): the handler maps a request path to a response. */
  serveHttp(port: number, handler: (path: string) => { status: number; body: string }): Promise<Listener>;
  /** Accepts TCP connections on the pod IP (busybox `nc -l`). */
  serveTcp(port: number): Promise<Listener>;
  /** An HTTP GET from inside the pod (busybox `wget`); "localhost" means the pod IP. */
  httpGet(url: string, signal: AbortSignal): Promise<{ status: number; statusText: string; body: string }>;
}

export interface ShellOptions {
  readonly fs: ContainerFs;
  readonly env: Readonly<Record<string, string>>;
  readonly clock: Clock;
  readonly io: ShellIo;
  readonly control: ProcessControl;
  readonly host?: ShellHost;
  readonly cwd?: string;
  readonly hostname?: string;
  /** The process's user and group (CRI run_as_user/run_as_group; 0 when unset, as with a root image). */
  readonly user?: { readonly uid: number; readonly gid: number };
  readonly stdin?: ShellStdin;
}

/** argv[0] is not an applet the model knows (an exec of it fails to start, as on a runtime). */
export class CommandNotFound extends Error {
  constructor(readonly command: string) {
    super(`exec: "${command}": executable file not found in $PATH`);
    this.name = 'CommandNotFound';
  }
}

export { MAX_TIMER_MS };

class ExitSignal {
  constructor(readonly code: number) {}
}

type Builtin = (sh: Interpreter, args: string[], io: ShellIo) => Promise<number> | number;

/** The applets of the model; names are compared on the basename of argv[0]. */
const BUILTINS = new Map<string, Builtin>();

/** posix.basename for a command name: most have no slash, and then are their own base name. */
function commandName(argv0: string): string {
  return argv0.includes('/') ? posix.basename(argv0) : argv0;
}

export function isKnownCommand(argv0: string): boolean {
  const name = commandName(argv0);
  return name === 'sh' || name === 'ash' || name === 'bash' || name === 'busybox' || BUILTINS.has(name);
}

/**
 * Runs argv as the container's process (or an exec'd process) and resolves with its exit status.
 * `sh -c SCRIPT` interprets SCRIPT; an applet name runs that applet directly. A process killed by a
 * signal resolves with 128 + the signal number.
 */
export async function runProcess(argv: readonly string[], options: ShellOptions): Promise<number> {
  let args = [...argv];
  if (args.length > 0 && commandName(args[0]!) === 'busybox') args = args.slice(1);
  if (args.length === 0) throw new CommandNotFound('');
  // The commonest container command runs without an interpreter (see runPlainSleep); an EXIT trap
  // set on the process's control is the interpreter's to run, so it keeps that path.
  if (commandName(args[0]!) === 'sleep' && !options.control.traps.has('EXIT')) return runPlainSleep(args.slice(1), options);
  return runInterpreted(args, options);
}

/**
 * `sleep N` as a process of its own (no shell): what the sleep applet does under the interpreter (the
 * same argument parsing, the same sleep on the clock, killed the same way, the same exit status),
 * without building one. Starting and stopping such containers is most of a lifecycle benchmark.
 */
async function runPlainSleep(args: readonly string[], options: ShellOptions): Promise<number> {
  const ms = sleepArgsMs(args);
  if (typeof ms === 'string') {
    options.io.stderr(ms);
    return options.control.killed?.exitCode ?? 1;
  }
  try {
    await options.control.sleep(options.clock, ms);
  } catch (err) {
    if (err instanceof ProcessKilled) return err.exitCode;
    throw err;
  }
  return options.control.killed?.exitCode ?? 0;
}

/** runProcess through the interpreter, whatever argv[0] is (exported for the test that holds the fast path to it). */
export async function runInterpreted(args: readonly string[], options: ShellOptions): Promise<number> {
  if (!isKnownCommand(args[0]!)) throw new CommandNotFound(args[0]!);
  const sh = new Interpreter(options, args);
  const finished = (code: number): number => options.control.killed?.exitCode ?? code;
  try {
    let code: number;
    if (isShell(args[0]!)) {
      code = await sh.runShellArgs(args.slice(1));
    } else {
      code = await sh.runWords(args, options.io);
    }
    return finished(await sh.runExitTrap(code));
  } catch (err) {
    if (err instanceof ExitSignal) return finished(await sh.runExitTrap(err.code));
    if (err instanceof ProcessKilled) return err.exitCode;
    if (options.control.killed) return options.control.killed.exitCode;
    throw err;
  } finally {
    sh.closeListeners();
  }
}

function isShell(argv0: string): boolean {
  const name = posix.basename(argv0);
  return name === 'sh' || name === 'ash' || name === 'bash';
}

class Interpreter {
  status = 0;
  readonly vars: Map<string, string>;
  cwd: string;
  private positional: string[] = [];
  private arg0 = 'sh';
  private readonly jobs: Promise<number>[] = [];
  private readonly listeners: Listener[] = [];

  constructor(
    readonly options: ShellOptions,
    argv: readonly string[],
  ) {
    this.vars = new Map(Object.entries(options.env));
    this.cwd = options.cwd && options.cwd.startsWith('/') ? options.cwd : '/';
    this.arg0 = argv[0] ?? 'sh';
  }

  get fs(): ContainerFs {
    return this.options.fs;
  }

  get control(): ProcessControl {
    return this.options.control;
  }

  async runShellArgs(args: string[]): Promise<number> {
    if (args[0] === '-c') {
      const script = args[1];
      if (script === undefined) {
        this.options.io.stderr('sh: -c requires an argument\n');
        return 2;
      }
      this.arg0 = args[2] ?? this.arg0;
      this.positional = args.slice(3);
      return this.runScript(script);
    }
    const file = args.find((a) => !a.startsWith('-'));
    // sh with no script reads its script from stdin (closed at once for a container without stdin).
    if (file === undefined) return this.runScript(await this.readStdin());
    let source: string;
    try {
      source = this.fs.readFile(this.resolve(file));
    } catch {
      this.options.io.stderr(`sh: can't open '${file}': No such file or directory\n`);
      return 2;
    }
    this.arg0 = file;
    this.positional = args.slice(args.indexOf(file) + 1);
    return this.runScript(source);
  }

  async runScript(source: string): Promise<number> {
    let list: List;
    try {
      list = parseScript(source);
    } catch (err) {
      if (err instanceof ShellSyntaxError) {
        this.options.io.stderr(`sh: ${err.message}\n`);
        return 2;
      }
      throw err;
    }
    return this.runList(list, this.options.io);
  }

  async runExitTrap(code: number): Promise<number> {
    const action = this.control.traps.get('EXIT');
    if (!action || this.control.killed) return code;
    this.control.traps.delete('EXIT');
    this.status = code;
    try {
      await this.runScript(action);
    } catch (err) {
      if (err instanceof ExitSignal) return err.code;
      throw err;
    }
    return code;
  }

  /** All of stdin up to its end ('' when there is none). */
  async readStdin(): Promise<string> {
    let text = '';
    for (let chunk = await this.options.stdin?.read(); chunk != null; chunk = await this.options.stdin?.read()) text += chunk;
    return text;
  }

  closeListeners(): void {
    for (const l of this.listeners.splice(0)) l.close();
  }

  addListener(listener: Listener): void {
    this.listeners.push(listener);
  }

  resolve(path: string): string {
    return posix.normalize(path.startsWith('/') ? path : posix.join(this.cwd, path));
  }

  checkAlive(): void {
    const killed = this.control.killed;
    if (killed) throw killed;
  }

  /** Runs the actions of trapped signals that arrived, between commands, as sh does. */
  async handleTraps(io: ShellIo): Promise<void> {
    while (this.control.hasPending()) {
      for (const name of this.control.takePending()) {
        const action = this.control.traps.get(name);
        if (action) {
          const saved = this.status;
          await this.runList(parseScript(action), io);
          this.status = saved;
        }
      }
    }
  }

  async runList(list: List, io: ShellIo): Promise<number> {
    for (const item of list) {
      this.checkAlive();
      if (item.background) {
        const job = new Interpreter(this.options, [this.arg0]);
        job.cwd = this.cwd;
        for (const [k, v] of this.vars) job.vars.set(k, v);
        const run = job.runAndOr(item, io).catch((err: unknown) => {
          if (err instanceof ExitSignal) return err.code;
          if (err instanceof ProcessKilled) return err.exitCode;
          throw err;
        });
        this.jobs.push(run.finally(() => job.closeListeners()));
        this.status = 0;
        continue;
      }
      await this.runAndOr(item, io);
    }
    return this.status;
  }

  async runAndOr(item: AndOr, io: ShellIo): Promise<number> {
    let status = await this.runCommand(item.first, io);
    for (const { op, command } of item.rest) {
      if ((op === '&&' && status !== 0) || (op === '||' && status === 0)) continue;
      status = await this.runCommand(command, io);
    }
    return status;
  }

  async runCommand(cmd: Command, io: ShellIo): Promise<number> {
    this.checkAlive();
    switch (cmd.type) {
      case 'simple':
        this.status = await this.runSimple(cmd, io);
        break;
      case 'not':
        this.status = (await this.runCommand(cmd.command, io)) === 0 ? 1 : 0;
        break;
      case 'group':
        this.status = await this.runList(cmd.body, io);
        break;
      case 'if': {
        let done = false;
        for (const branch of cmd.branches) {
          if ((await this.runList(branch.cond, io)) === 0) {
            this.status = await this.runList(branch.body, io);
            done = true;
            break;
          }
        }
        if (!done) this.status = cmd.otherwise ? await this.runList(cmd.otherwise, io) : 0;
        break;
      }
      case 'loop': {
        let last = 0;
        for (;;) {
          this.checkAlive();
          const cond = await this.runList(cmd.cond, io);
          if ((cond === 0) === cmd.until) break;
          last = await this.runList(cmd.body, io);
          await this.yieldTurn();
        }
        this.status = last;
        break;
      }
      case 'for': {
        const items = cmd.items === null ? [...this.positional] : cmd.items.flatMap((w) => this.expand(w));
        let last = 0;
        for (const value of items) {
          this.vars.set(cmd.name, value);
          last = await this.runList(cmd.body, io);
        }
        this.status = last;
        break;
      }
    }
    await this.handleTraps(io);
    return this.status;
  }

  /** A loop whose body never sleeps must not starve the event loop (or a virtual clock). */
  private turns = 0;
  private async yieldTurn(): Promise<void> {
    if (++this.turns % 64 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    this.checkAlive();
  }

  private async runSimple(cmd: Extract<Command, { type: 'simple' }>, parentIo: ShellIo): Promise<number> {
    const words = cmd.words.flatMap((w) => this.expand(w));
    const assigned = cmd.assigns.map(([k, w]) => [k, this.expand(w, false).join('')] as const);
    if (words.length === 0) {
      for (const [k, v] of assigned) this.vars.set(k, v);
      return 0;
    }
    let io: ShellIo;
    try {
      io = this.redirect(cmd.redirects, parentIo);
    } catch (err) {
      if (err instanceof FsError) {
        parentIo.stderr(`sh: can't create ${this.describeRedirect(cmd.redirects)}: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
    const saved = assigned.map(([k]) => [k, this.vars.get(k)] as const);
    for (const [k, v] of assigned) this.vars.set(k, v);
    try {
      return await this.runWords(words, io);
    } finally {
      for (const [k, v] of saved) {
        if (v === undefined) this.vars.delete(k);
        else this.vars.set(k, v);
      }
    }
  }

  async runWords(words: readonly string[], io: ShellIo): Promise<number> {
    const [name, ...args] = words as [string, ...string[]];
    const base = posix.basename(name);
    if (isShell(name)) {
      const child = new Interpreter({ ...this.options, io }, [name]);
      child.cwd = this.cwd;
      try {
        return await child.runShellArgs(args);
      } catch (err) {
        if (err instanceof ExitSignal) return err.code;
        throw err;
      } finally {
        child.closeListeners();
      }
    }
    if (base === 'busybox' && args.length > 0) return this.runWords(args, io);
    const builtin = BUILTINS.get(base);
    if (!builtin) {
      io.stderr(`sh: ${name}: not found\n`);
      return 127;
    }
    try {
      return await builtin(this, args, io);
    } catch (err) {
      if (err instanceof FsError) {
        io.stderr(`${base}: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  }

  private describeRedirect(redirects: readonly { target: Word | 1 | 2 }[]): string {
    const file = redirects.find((r) => typeof r.target !== 'number');
    return file ? this.expand(file.target as Word, false).join('') : '';
  }

  private redirect(redirects: Extract<Command, { type: 'simple' }>['redirects'], io: ShellIo): ShellIo {
    let out = io.stdout.bind(io);
    let err = io.stderr.bind(io);
    for (const r of redirects) {
      if (r.op === 'dup') {
        if (r.fd === 2) err = r.target === 1 ? out : err;
        else if (r.fd === 1) out = r.target === 2 ? err : out;
        continue;
      }
      if (r.op === '<') continue;
      const path = this.resolve(this.expand(r.target as Word, false).join(''));
      this.fs.writeFile(path, '', r.op === '>>');
      const write = (text: string): void => this.fs.writeFile(path, text, true);
      if (r.fd === 2) err = write;
      else out = write;
    }
    return { stdout: out, stderr: err };
  }

  /** Parameter expansion; unquoted expansions are split on whitespace (no globbing). */
  expand(word: Word, split = true): string[] {
    const fields: string[] = [];
    let current = '';
    let sawQuoted = false;
    for (const seg of word) {
      if (seg.quote === 'single') {
        current += seg.text;
        sawQuoted = true;
        continue;
      }
      if (seg.quote === 'double') sawQuoted = true;
      const re = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*|[0-9?#@$])(?::?-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*|[0-9?#@$]))/g;
      let last = 0;
      for (let m = re.exec(seg.text); m; m = re.exec(seg.text)) {
        current += seg.text.slice(last, m.index);
        last = re.lastIndex;
        let value = this.param(m[1] ?? m[3] ?? '');
        if (value === '' && m[2] !== undefined) value = m[2];
        if (seg.quote === 'none' && split) {
          const [head = '', ...tail] = value.split(/[ \t\n]+/);
          current += head;
          for (const part of tail) {
            fields.push(current);
            current = part;
          }
        } else {
          current += value;
        }
      }
      current += seg.text.slice(last);
    }
    fields.push(current);
    if (!split) return [fields.join(' ')];
    return fields.filter((f, i) => f !== '' || (i === 0 && sawQuoted && fields.length === 1));
  }

  private param(name: string): string {
    switch (name) {
      case '?':
        return String(this.status);
      case '#':
        return String(this.positional.length);
      case '@':
        return this.positional.join(' ');
      case '$':
        return '1';
      case '0':
        return this.arg0;
      default:
        if (/^[1-9]$/.test(name)) return this.positional[Number(name) - 1] ?? '';
        return this.vars.get(name) ?? '';
    }
  }

  async sleepMs(ms: number): Promise<void> {
    this.checkAlive();
    await this.control.sleep(this.options.clock, ms);
  }

  /** `wait`: for background jobs, interrupted by a trapped signal as POSIX requires. */
  async waitJobs(): Promise<number> {
    let unsubscribe = (): void => undefined;
    const interrupted = new Promise<'signal'>((resolve) => {
      unsubscribe = this.control.onTrappedSignal(() => resolve('signal'));
      if (this.control.hasPending()) resolve('signal');
    });
    const killed = this.control.untilKilled();
    killed.catch(() => undefined);
    try {
      const result = await Promise.race([Promise.all(this.jobs).then(() => 'done' as const), interrupted, killed]);
      if (result === 'signal') return 128 + SIGNALS.TERM!;
      this.jobs.splice(0);
      return 0;
    } finally {
      unsubscribe();
    }
  }

  /** Blocks until the process is killed (a foreground server such as `httpd -f`). */
  async blockUntilKilled(): Promise<never> {
    return this.control.untilKilled();
  }

  exit(code: number): never {
    throw new ExitSignal(code);
  }
}

// ---------------------------------------------------------------------------------------------
// Applets. Messages follow busybox 1.35 wording so a probe's output reads as on a real runtime.

function define(names: string[], fn: Builtin): void {
  for (const n of names) BUILTINS.set(n, fn);
}

define([':', 'true'], () => 0);
define(['false'], () => 1);

define(['exit'], (sh, args): number => {
  const code = args[0] === undefined ? sh.status : Number(args[0]);
  return sh.exit(Number.isInteger(code) ? code & 0xff : 2);
});

define(['exec'], async (sh, args, io): Promise<number> => {
  if (args.length === 0) return 0;
  return sh.exit(await sh.runWords(args, io));
});

define(['echo'], (_sh, args, io) => {
  let newline = true;
  let escapes = false;
  while (args[0] && /^-[neE]+$/.test(args[0])) {
    const flags = args.shift()!;
    if (flags.includes('n')) newline = false;
    if (flags.includes('e')) escapes = true;
    if (flags.includes('E')) escapes = false;
  }
  let text = args.join(' ');
  if (escapes) text = unescape(text);
  io.stdout(newline ? `${text}\n` : text);
  return 0;
});

define(['printf'], (_sh, args, io) => {
  const format = args.shift();
  if (format === undefined) {
    io.stderr('printf: usage: printf FORMAT [ARGUMENT...]\n');
    return 1;
  }
  let i = 0;
  let out = '';
  // The format is reused while arguments remain, but only if it consumes some (else printed once).
  for (;;) {
    const before = i;
    out += unescape(format).replace(/%([sdi%])/g, (_m, c: string) => {
      if (c === '%') return '%';
      const v = args[i++] ?? '';
      return c === 's' ? v : String(parseInt(v, 10) || 0);
    });
    if (i >= args.length || i === before) break;
  }
  io.stdout(out);
  return 0;
});

function unescape(text: string): string {
  return text.replace(/\\([ntr\\]|0[0-7]{0,3})/g, (_m, c: string) =>
    c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : c === '\\' ? '\\' : String.fromCharCode(parseInt(c, 8)),
  );
}

define(['cat'], async (sh, args, io) => {
  let status = 0;
  for (const file of args.length === 0 ? ['-'] : args) {
    if (file === '-') {
      // Copied as it arrives, so an interactive exec sees each line echoed back.
      for (let chunk = await sh.options.stdin?.read(); chunk != null; chunk = await sh.options.stdin?.read()) {
        sh.checkAlive();
        io.stdout(chunk);
      }
      continue;
    }
    try {
      io.stdout(sh.fs.readFile(sh.resolve(file)));
    } catch (err) {
      if (!(err instanceof FsError)) throw err;
      io.stderr(err.reason === 'EISDIR' ? `cat: read error: ${err.message}\n` : `cat: can't open '${file}': ${err.message}\n`);
      status = 1;
    }
  }
  return status;
});

define(['touch'], (sh, args, io) => {
  let status = 0;
  for (const file of args.filter((a) => !a.startsWith('-'))) {
    const path = sh.resolve(file);
    try {
      if (sh.fs.stat(path) === null) sh.fs.writeFile(path, '', false);
    } catch (err) {
      if (!(err instanceof FsError)) throw err;
      io.stderr(`touch: ${file}: ${err.message}\n`);
      status = 1;
    }
  }
  return status;
});

define(['rm'], (sh, args, io) => {
  const flags = args.filter((a) => /^-[a-zA-Z]+$/.test(a)).join('');
  const force = flags.includes('f');
  const recursive = /[rR]/.test(flags);
  let status = 0;
  for (const file of args.filter((a) => !/^-[a-zA-Z]+$/.test(a))) {
    const path = sh.resolve(file);
    const kind = sh.fs.stat(path);
    if (kind === null) {
      if (!force) {
        io.stderr(`rm: can't remove '${file}': No such file or directory\n`);
        status = 1;
      }
      continue;
    }
    if (kind === 'dir' && !recursive) {
      io.stderr(`rm: '${file}' is a directory\n`);
      status = 1;
      continue;
    }
    sh.fs.remove(path, recursive);
  }
  return status;
});

define(['mkdir'], (sh, args, io) => {
  const parents = args.includes('-p');
  let status = 0;
  for (const dir of args.filter((a) => !a.startsWith('-'))) {
    try {
      sh.fs.mkdir(sh.resolve(dir), parents);
    } catch (err) {
      if (!(err instanceof FsError)) throw err;
      io.stderr(`mkdir: can't create directory '${dir}': ${err.message}\n`);
      status = 1;
    }
  }
  return status;
});

define(['ls'], (sh, args, io) => {
  const targets = args.filter((a) => !a.startsWith('-'));
  let status = 0;
  for (const t of targets.length ? targets : ['.']) {
    const path = sh.resolve(t);
    if (sh.fs.stat(path) === null) {
      io.stderr(`ls: ${t}: No such file or directory\n`);
      status = 1;
      continue;
    }
    const names = sh.fs.list(path);
    if (names.length) io.stdout(`${names.join('\n')}\n`);
  }
  return status;
});

define(['grep'], (sh, args, io) => {
  const flags = args.filter((a) => /^-[a-zA-Z]+$/.test(a)).join('');
  const [pattern, ...files] = args.filter((a) => !/^-[a-zA-Z]+$/.test(a));
  if (pattern === undefined) {
    io.stderr('grep: usage: grep [-qvF] PATTERN [FILE]...\n');
    return 2;
  }
  let matcher: (line: string) => boolean;
  try {
    const re = flags.includes('F') ? null : new RegExp(pattern, flags.includes('i') ? 'i' : '');
    matcher = re ? (l) => re.test(l) : (l) => l.includes(pattern);
  } catch {
    matcher = (l) => l.includes(pattern);
  }
  let found = false;
  let status = 0;
  for (const file of files) {
    let text: string;
    try {
      text = sh.fs.readFile(sh.resolve(file));
    } catch {
      io.stderr(`grep: ${file}: No such file or directory\n`);
      status = 2;
      continue;
    }
    for (const line of text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1)) {
      if (matcher(line) !== flags.includes('v')) {
        found = true;
        if (!flags.includes('q')) io.stdout(`${line}\n`);
      }
    }
  }
  return found ? 0 : status || 1;
});

define(['test'], (sh, args, io) => testExpression(sh, args, io));
define(['['], (sh, args, io) => {
  if (args[args.length - 1] !== ']') {
    io.stderr('[: missing ]\n');
    return 2;
  }
  return testExpression(sh, args.slice(0, -1), io);
});

function testExpression(sh: Interpreter, args: string[], io: ShellIo): number {
  const expr = [...args];
  const result = evalOr(expr);
  if (result === null || expr.length > 0) {
    io.stderr('sh: syntax error in test expression\n');
    return 2;
  }
  return result ? 0 : 1;

  function evalOr(e: string[]): boolean | null {
    let left = evalAnd(e);
    while (left !== null && e[0] === '-o') {
      e.shift();
      const right = evalAnd(e);
      if (right === null) return null;
      left = left || right;
    }
    return left;
  }
  function evalAnd(e: string[]): boolean | null {
    let left = evalNot(e);
    while (left !== null && e[0] === '-a') {
      e.shift();
      const right = evalNot(e);
      if (right === null) return null;
      left = left && right;
    }
    return left;
  }
  function evalNot(e: string[]): boolean | null {
    if (e[0] === '!' && e.length > 1) {
      e.shift();
      const v = evalNot(e);
      return v === null ? null : !v;
    }
    return evalPrimary(e);
  }
  function evalPrimary(e: string[]): boolean | null {
    const a = e.shift();
    if (a === undefined) return false;
    const op = e[0];
    if (op !== undefined && ['=', '==', '!=', '-eq', '-ne', '-lt', '-le', '-gt', '-ge'].includes(op) && e.length >= 2) {
      e.shift();
      const b = e.shift()!;
      if (op === '=' || op === '==') return a === b;
      if (op === '!=') return a !== b;
      const x = Number(a);
      const y = Number(b);
      if (!Number.isInteger(x) || !Number.isInteger(y)) return null;
      return op === '-eq' ? x === y : op === '-ne' ? x !== y : op === '-lt' ? x < y : op === '-le' ? x <= y : op === '-gt' ? x > y : x >= y;
    }
    if (/^-[a-zA-Z]$/.test(a) && op !== undefined) {
      const v = e.shift()!;
      switch (a) {
        case '-z':
          return v === '';
        case '-n':
          return v !== '';
        case '-e':
        case '-r':
        case '-w':
        case '-x':
          return sh.fs.stat(sh.resolve(v)) !== null;
        case '-f':
          return sh.fs.stat(sh.resolve(v)) === 'file';
        case '-d':
          return sh.fs.stat(sh.resolve(v)) === 'dir';
        case '-s':
          return sh.fs.stat(sh.resolve(v)) === 'file' && sh.fs.size(sh.resolve(v)) > 0;
        default:
          return null;
      }
    }
    return a !== '';
  }
}

const SLEEP_UNIT_MS = { '': 1_000, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * busybox sleep's arguments: seconds with optional fraction and s/m/h/d suffix, several adding up, `inf`
 * for ever. The milliseconds, or the message (with newline) of a usage error.
 */
export function sleepArgsMs(args: readonly string[]): number | string {
  if (args.length === 0) return 'sleep: usage: sleep [N]...\n';
  let ms = 0;
  for (const a of args) {
    if (a === 'inf' || a === 'infinity') {
      ms = Number.POSITIVE_INFINITY;
      continue;
    }
    const m = /^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$/.exec(a);
    if (!m) return `sleep: invalid number '${a}'\n`;
    ms += Number(m[1]) * SLEEP_UNIT_MS[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  }
  return ms;
}

define(['sleep'], async (sh, args, io) => {
  const ms = sleepArgsMs(args);
  if (typeof ms === 'string') {
    io.stderr(ms);
    return 1;
  }
  await sh.sleepMs(ms);
  return 0;
});

define(['trap'], (sh, args, io) => {
  if (args.length === 0) {
    for (const [name, action] of sh.control.traps) io.stdout(`trap -- '${action}' ${name}\n`);
    return 0;
  }
  if (args.length === 1) {
    io.stderr('trap: usage: trap [ACTION] SIGNAL...\n');
    return 1;
  }
  const [action, ...signals] = args as [string, ...string[]];
  for (const s of signals) {
    const name = signalName(s);
    if (name === null || name === 'KILL') {
      io.stderr(`trap: invalid signal specification: ${s}\n`);
      return 1;
    }
    if (action === '-') sh.control.traps.delete(name);
    else sh.control.traps.set(name, action);
  }
  return 0;
});

define(['wait'], (sh) => sh.waitJobs());

define(['kill'], (_sh, args, io) => {
  io.stderr(`kill: ${args.join(' ')}: not supported by the fake runtime's shell\n`);
  return 1;
});

define(['export'], (sh, args) => {
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq > 0) sh.vars.set(a.slice(0, eq), a.slice(eq + 1));
  }
  return 0;
});

define(['unset'], (sh, args) => {
  for (const a of args) sh.vars.delete(a);
  return 0;
});

define(['env', 'printenv'], (sh, args, io) => {
  if (args.length > 0 && !args[0]!.includes('=')) {
    const v = sh.vars.get(args[0]!);
    if (v === undefined) return 1;
    io.stdout(`${v}\n`);
    return 0;
  }
  for (const [k, v] of sh.vars) io.stdout(`${k}=${v}\n`);
  return 0;
});

define(['pwd'], (sh, _args, io) => {
  io.stdout(`${sh.cwd}\n`);
  return 0;
});

define(['cd'], (sh, args, io) => {
  const target = sh.resolve(args[0] ?? '/root');
  if (sh.fs.stat(target) !== 'dir') {
    io.stderr(`sh: cd: can't cd to ${args[0] ?? '/root'}: No such file or directory\n`);
    return 2;
  }
  sh.cwd = target;
  return 0;
});

/** busybox id: `id -u`, `id -g`, or the full line; user names exist only for root. */
define(['id'], (sh, args, io) => {
  const { uid, gid } = sh.options.user ?? { uid: 0, gid: 0 };
  const name = (n: number): string => (n === 0 ? '(root)' : '');
  if (args.includes('-u')) io.stdout(`${uid}\n`);
  else if (args.includes('-g')) io.stdout(`${gid}\n`);
  else io.stdout(`uid=${uid}${name(uid)} gid=${gid}${name(gid)} groups=${gid}${name(gid)}\n`);
  return 0;
});

define(['whoami'], (sh, _args, io) => {
  const uid = sh.options.user?.uid ?? 0;
  if (uid !== 0) {
    io.stderr(`whoami: unknown uid ${uid}\n`);
    return 1;
  }
  io.stdout('root\n');
  return 0;
});

define(['hostname'], (sh, _args, io) => {
  io.stdout(`${sh.options.hostname ?? sh.vars.get('HOSTNAME') ?? 'localhost'}\n`);
  return 0;
});

define(['date'], (sh, _args, io) => {
  const d = new Date(sh.options.clock.now());
  const day = d.toUTCString().slice(0, 3);
  const mon = d.toUTCString().slice(8, 11);
  const pad = (n: number): string => String(n).padStart(2, '0');
  io.stdout(`${day} ${mon} ${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}\n`);
  return 0;
});

/** busybox httpd: serves files under -h (default /www) on -p (default 80); daemonizes unless -f. */
define(['httpd'], async (sh, args, io) => {
  let port = 80;
  let home = '/www';
  let foreground = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-f') foreground = true;
    else if (a === '-p') port = Number((args[++i] ?? '').split(':').pop());
    else if (a === '-h') home = args[++i] ?? home;
    else if (/^-[a-zA-Z]*f[a-zA-Z]*$/.test(a)) foreground = true;
  }
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    io.stderr('httpd: bad port\n');
    return 1;
  }
  const host = sh.options.host;
  if (!host) {
    io.stderr('httpd: no network in this context\n');
    return 1;
  }
  const root = sh.resolve(home);
  const listener = await host.serveHttp(port, (path) => {
    const file = posix.normalize(posix.join(root, decodeURIComponent(path.split('?')[0] ?? '/')));
    const target = sh.fs.stat(file) === 'dir' ? posix.join(file, 'index.html') : file;
    if (!file.startsWith(root) || sh.fs.stat(target) !== 'file') return { status: 404, body: '<HTML><HEAD><TITLE>404 Not Found</TITLE></HEAD>\n<BODY><H1>404 Not Found</H1>\nThe requested URL was not found\n</BODY></HTML>\n' };
    return { status: 200, body: sh.fs.readFile(target) };
  });
  sh.addListener(listener);
  if (!foreground) return 0;
  return sh.blockUntilKilled();
});

/** busybox nc in listen mode: accepts TCP connections on the port until killed. */
define(['nc'], async (sh, args, io) => {
  if (!args.some((a) => /^-[a-zA-Z]*l/.test(a))) {
    io.stderr('nc: only listen mode (-l) is supported by the fake runtime\n');
    return 1;
  }
  const pIndex = args.indexOf('-p');
  const portText = pIndex >= 0 ? args[pIndex + 1] : args.filter((a) => !a.startsWith('-')).pop();
  const port = Number(portText);
  if (!Number.isInteger(port) || port <= 0 || port > 65535 || !sh.options.host) {
    io.stderr(`nc: bad port '${portText ?? ''}'\n`);
    return 1;
  }
  sh.addListener(await sh.options.host.serveTcp(port));
  return sh.blockUntilKilled();
});

/** busybox wget: GET a URL; -O FILE or -O - for stdout, -q quiet, --spider only checks. */
define(['wget'], async (sh, args, io) => {
  let output: string | null = null;
  let spider = false;
  let quiet = false;
  let url: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-O') output = args[++i] ?? '-';
    else if (a.startsWith('-O')) output = a.slice(2);
    else if (a === '--spider') spider = true;
    else if (a === '-q') quiet = true;
    else if (a.startsWith('-')) {
      if (a === '-T') i++;
    } else url = a;
  }
  if (!url || !sh.options.host) {
    io.stderr('wget: missing URL\n');
    return 1;
  }
  if (!quiet) io.stderr(`Connecting to ${url.replace(/^https?:\/\//, '').split('/')[0]}\n`);
  let res: { status: number; statusText: string; body: string };
  try {
    res = await sh.options.host.httpGet(url, sh.control.signal);
  } catch (err) {
    sh.checkAlive();
    io.stderr(`wget: can't connect to remote host: ${(err as Error).message.includes('ECONNREFUSED') ? 'Connection refused' : (err as Error).message}\n`);
    return 1;
  }
  if (res.status >= 400) {
    io.stderr(`wget: server returned error: HTTP/1.1 ${res.status} ${res.statusText}\n`);
    return 1;
  }
  if (spider) return 0;
  const target = output ?? posix.basename(new URL(url).pathname || '/') ?? 'index.html';
  if (target === '-') io.stdout(res.body);
  else sh.fs.writeFile(sh.resolve(target || 'index.html'), res.body, false);
  return 0;
});
