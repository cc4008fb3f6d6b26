import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../agent/clock/virtual-clock.js';
import { ProcessControl } from './control.js';
import { ContainerFs } from './fs.js';
import { CommandNotFound, runInterpreted, runProcess, type ShellOptions } from './interpreter.js';
import { MAX_TIMER_MS } from './control.js';

function setup(options: { pid1?: boolean; env?: Record<string, string> } = {}) {
  const clock = new VirtualClock();
  const fs = new ContainerFs();
  const out: string[] = [];
  const err: string[] = [];
  const control = new ProcessControl(options.pid1 ?? true);
  const run = (argv: string[], ctl = control) =>
    runProcess(argv, {
      fs,
      clock,
      control: ctl,
      env: options.env ?? { HOME: '/root' },
      io: { stdout: (t) => out.push(t), stderr: (t) => err.push(t) },
    });
  const exec = async (argv: string[]) => {
    out.length = 0;
    err.length = 0;
    const code = await run(argv, new ProcessControl(false));
    return { code, stdout: out.join(''), stderr: err.join('') };
  };
  return { clock, fs, out, err, control, run, exec };
}

describe('the fake runtime shell model', () => {
  it('runs the classic liveness example over the clock with cat as the probe', async () => {
    const { clock, run, exec } = setup();
    const main = run(['/bin/sh', '-c', 'touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600']);
    await clock.advance(1);
    expect(await exec(['cat', '/tmp/healthy'])).toEqual({ code: 0, stdout: '', stderr: '' });
    await clock.advance(29_998);
    expect((await exec(['cat', '/tmp/healthy'])).code).toBe(0);
    await clock.advance(2);
    expect(await exec(['cat', '/tmp/healthy'])).toEqual({
      code: 1,
      stdout: '',
      stderr: "cat: can't open '/tmp/healthy': No such file or directory\n",
    });
    await clock.advance(600_000);
    expect(await main).toBe(0);
  });

  it('returns exit codes through ; && || and exit N', async () => {
    const { exec } = setup();
    expect((await exec(['sh', '-c', 'exit 3'])).code).toBe(3);
    expect(await exec(['sh', '-c', 'false && echo no; echo yes || echo never'])).toMatchObject({ code: 0, stdout: 'yes\n' });
    expect((await exec(['sh', '-c', 'test -f /nope || exit 7'])).code).toBe(7);
    expect((await exec(['sh', '-c', 'echo a; exit 300'])).code).toBe(44);
    expect(await exec(['sh', '-c', 'nosuchcmd'])).toMatchObject({ code: 127, stderr: 'sh: nosuchcmd: not found\n' });
    expect(await exec(['sh', '-c', 'echo "unterminated'])).toMatchObject({ code: 2 });
  });

  it('supports files, redirections, variables, tests, if, for and while', async () => {
    const { exec, fs } = setup({ env: { GREETING: 'hello world' } });
    const script = [
      'mkdir -p /data',
      'echo "$GREETING" > /data/a',
      'echo more >> /data/a',
      'for n in 1 2 3; do echo $n; done',
      'i=0; while [ "$i" != 2 ]; do i=2; echo loop; done',
      'if [ -s /data/a ]; then cat /data/a; else echo empty; fi',
      'ls /data 1>&2',
    ].join('\n');
    const r = await exec(['sh', '-c', script]);
    expect(r).toEqual({ code: 0, stdout: '1\n2\n3\nloop\nhello world\nmore\n', stderr: 'a\n' });
    expect(fs.readFile('/data/a')).toBe('hello world\nmore\n');
    expect((await exec(['sh', '-c', 'rm /data'])).stderr).toBe("rm: '/data' is a directory\n");
    expect((await exec(['sh', '-c', 'rm -rf /data && test ! -e /data'])).code).toBe(0);
    expect((await exec(['sh', '-c', 'grep -q more /tmp/x 2>/dev/null; echo $?'])).stdout).toBe('2\n');
  });

  it('runs applets given directly as argv and refuses unknown executables', async () => {
    const { exec } = setup();
    expect(await exec(['echo', '-n', 'hi'])).toMatchObject({ code: 0, stdout: 'hi' });
    expect(await exec(['/bin/busybox', 'true'])).toMatchObject({ code: 0 });
    await expect(exec(['/usr/local/bin/app'])).rejects.toBeInstanceOf(CommandNotFound);
  });

  it('as PID 1 ignores SIGTERM without a trap, so only SIGKILL ends it (exit 137)', async () => {
    const { clock, control, run } = setup({ pid1: true });
    let code: number | undefined;
    void run(['sleep', '600']).then((c) => (code = c));
    await clock.advance(10);
    expect(control.deliver('TERM')).toBe('ignored');
    await clock.advance(10);
    expect(code).toBeUndefined();
    control.kill();
    await clock.advance(1);
    expect(code).toBe(137);
  });

  it("runs a TERM trap only after the foreground sleep, and trap '' TERM ignores it", async () => {
    const { clock, control, run } = setup();
    let code: number | undefined;
    void run(['sh', '-c', "trap 'echo bye; exit 0' TERM; sleep 30; echo after"]).then((c) => (code = c));
    await clock.advance(5_000);
    expect(control.deliver('TERM')).toBe('trapped');
    await clock.advance(20_000);
    expect(code).toBeUndefined();
    await clock.advance(5_001);
    expect(code).toBe(0);

    const ignoring = setup();
    let ignored: number | undefined;
    void ignoring.run(['sh', '-c', "trap '' TERM; sleep 600"]).then((c) => (ignored = c));
    await ignoring.clock.advance(1);
    expect(ignoring.control.deliver('TERM')).toBe('ignored');
  });

  it('interrupts wait with a trapped signal (sleep & wait pattern)', async () => {
    const { clock, control, run, out } = setup();
    let code: number | undefined;
    void run(['sh', '-c', "trap 'echo term; exit 143' TERM; sleep 600 & wait"]).then((c) => (code = c));
    await clock.advance(100);
    control.deliver('TERM');
    await clock.advance(1);
    expect(code).toBe(143);
    expect(out.join('')).toBe('term\n');
  });

  it('a non-PID-1 process without a trap dies of SIGTERM with 143', async () => {
    const { clock, run } = setup();
    const ctl = new ProcessControl(false);
    let code: number | undefined;
    void run(['sleep', '100'], ctl).then((c) => (code = c));
    await clock.advance(1);
    expect(ctl.deliver('TERM')).toBe('terminated');
    await clock.advance(1);
    expect(code).toBe(143);
  });

  it('does not starve the event loop with a busy loop, and SIGKILL stops it', async () => {
    const { clock, control, run } = setup();
    let code: number | undefined;
    void run(['sh', '-c', 'while true; do :; done']).then((c) => (code = c));
    await new Promise((r) => setTimeout(r, 20));
    control.kill();
    await clock.advance(1);
    await new Promise((r) => setTimeout(r, 5));
    expect(code).toBe(137);
  });

  it('reports the CRI user with id and whoami', async () => {
    const out: string[] = [];
    const run = (argv: string[], user?: { uid: number; gid: number }) =>
      runProcess(argv, { fs: new ContainerFs(), clock: new VirtualClock(), control: new ProcessControl(false), env: {}, io: { stdout: (t) => out.push(t), stderr: (t) => out.push(t) }, ...(user ? { user } : {}) });
    expect(await run(['sh', '-c', 'id -u; id -g; id'], { uid: 1000, gid: 3000 })).toBe(0);
    expect(await run(['whoami'])).toBe(0);
    expect(out.join('')).toBe('1000\n3000\nuid=1000 gid=3000 groups=3000\nroot\n');
  });
});

describe('a plain `sleep` process (no shell), which runs without an interpreter', () => {
  interface Scenario {
    readonly argv: string[];
    readonly pid1?: boolean;
    readonly trapTerm?: boolean;
    readonly killedFirst?: boolean;
    /** Signals sent at virtual times (ms). */
    readonly signals?: ReadonlyArray<readonly [number, 'TERM' | 'KILL' | 'INT']>;
    readonly untilMs: number;
  }

  /** What a process shows from outside: exit status, when it ended, stderr, what signals did, timers left. */
  async function observe(run: (argv: string[], options: ShellOptions) => Promise<number>, s: Scenario) {
    const clock = new VirtualClock();
    const control = new ProcessControl(s.pid1 ?? true);
    if (s.trapTerm) control.traps.set('TERM', '');
    if (s.killedFirst) control.kill();
    const stderr: string[] = [];
    let envRead = false;
    // The interpreter copies the environment into its variables; the plain path never looks at it.
    const env = new Proxy({ HOME: '/root' } as Record<string, string>, {
      ownKeys: (target) => ((envRead = true), Reflect.ownKeys(target)),
    });
    let ended: { code: number; atMs: number } | null = null;
    void run(s.argv, { fs: new ContainerFs(), env, clock, control, io: { stdout: () => undefined, stderr: (t) => stderr.push(t) } }).then((code) => {
      ended = { code, atMs: clock.monotonic() };
    });
    const outcomes: string[] = [];
    for (const [at, name] of s.signals ?? []) {
      await clock.advanceTo(at);
      outcomes.push(control.deliver(name));
    }
    await clock.advanceTo(s.untilMs);
    return { ended, stderr: stderr.join(''), outcomes, timersLeft: clock.pendingTimers(), envRead };
  }

  const scenarios: Record<string, Scenario> = {
    'runs out': { argv: ['sleep', '3'], untilMs: 10_000 },
    'adds its arguments up, with fractions and suffixes': { argv: ['/bin/sleep', '1.5', '2s', '.25m'], untilMs: 60_000 },
    'sleeps zero': { argv: ['sleep', '0'], untilMs: 1 },
    'under busybox': { argv: ['busybox', 'sleep', '2'], untilMs: 5_000 },
    'has no arguments': { argv: ['sleep'], untilMs: 1 },
    'has a bad argument': { argv: ['sleep', '1', 'soon'], untilMs: 1 },
    'is killed': { argv: ['sleep', '3600'], signals: [[1_000, 'KILL']], untilMs: 5_000 },
    'ignores TERM as PID 1': { argv: ['sleep', '10'], signals: [[1_000, 'TERM'], [2_000, 'INT']], untilMs: 20_000 },
    'dies of TERM when not PID 1': { argv: ['sleep', '10'], pid1: false, signals: [[1_000, 'TERM']], untilMs: 20_000 },
    'ignores a trapped TERM when not PID 1': { argv: ['sleep', '10'], pid1: false, trapTerm: true, signals: [[1_000, 'TERM']], untilMs: 20_000 },
    'sleeps for ever until killed': { argv: ['sleep', 'inf'], signals: [[86_400_000, 'KILL']], untilMs: 86_400_001 },
    'sleeps longer than a timer holds': { argv: ['sleep', `${Math.ceil(MAX_TIMER_MS / 1000) + 1}`], signals: [[MAX_TIMER_MS + 5_000, 'KILL']], untilMs: MAX_TIMER_MS + 10_000 },
    'was killed before it ran': { argv: ['sleep', '5'], killedFirst: true, untilMs: 10_000 },
  };

  for (const [name, scenario] of Object.entries(scenarios)) {
    it(`behaves as the interpreter's sleep applet when it ${name}`, async () => {
      const plain = await observe(runProcess, scenario);
      const interpreted = await observe((argv, options) => runInterpreted(argv, options), scenario);
      expect(plain.envRead).toBe(false);
      expect(interpreted.envRead).toBe(true);
      expect({ ...plain, envRead: undefined }).toEqual({ ...interpreted, envRead: undefined });
      expect(plain.ended).not.toBeNull();
    });
  }

  it('keeps the interpreter when an EXIT trap is set on the process', async () => {
    const clock = new VirtualClock();
    const control = new ProcessControl(false);
    control.traps.set('EXIT', 'echo bye');
    const out: string[] = [];
    const done = runProcess(['sleep', '1'], { fs: new ContainerFs(), env: {}, clock, control, io: { stdout: (t) => out.push(t), stderr: () => undefined } });
    await clock.advance(1_000);
    expect(await done).toBe(0);
    expect(out.join('')).toBe('bye\n');
  });
});
