import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../agent/clock/virtual-clock.js';
import { ProcessControl } from '../fakes/cri/shell/control.js';
import { ContainerFs } from '../fakes/cri/shell/fs.js';
import { runProcess } from '../fakes/cri/shell/interpreter.js';

/**
 * The fake runtime's shell model on generated scripts built from sh tokens (keywords, operators,
 * quotes, redirections, applets): it always ends with an exit status (syntax errors are status 2 with
 * a message), never throws, and a SIGKILL always ends it with 137 — whatever the script.
 */
const word = fc.constantFrom('x', '/tmp/a', '/tmp', '-f', '-rf', '-p', '-q', '1', '0.5', '3', "'a b'", '"$X"', '$?', '${X:-d}', "''", 'TERM', '%s', '/nope');
const applet = fc.constantFrom('echo', 'cat', 'touch', 'rm', 'test', 'sleep', 'exit', 'true', 'false', 'mkdir', 'grep', 'ls', 'id', 'env', 'printf', 'cd', 'trap', 'wait', 'nosuch', 'X=1', ':');
const redirect = fc.constantFrom('', '', '> /tmp/a', '>> /tmp/a', '2>&1', '>&2', '2> /dev/null', '> /nope/x');
const simple = fc.tuple(applet, fc.array(word, { maxLength: 3 }), redirect).map(([a, args, r]) => [a, ...args, r].join(' ').trim());
const compound = fc.oneof(
  { arbitrary: simple, weight: 5 },
  fc.tuple(simple, simple, simple).map(([c, t, e]) => `if ${c}; then ${t}; else ${e}; fi`),
  fc.tuple(simple, simple).map(([c, b]) => `while ${c}; do ${b}; done`),
  fc.tuple(simple, simple).map(([c, b]) => `until ${c}; do ${b}; done`),
  simple.map((b) => `for i in 1 2 3; do ${b}; done`),
  simple.map((b) => `{ ${b}; }`),
  simple.map((b) => `( ${b} )`),
  simple.map((b) => `! ${b}`),
  simple.map((b) => `${b} &`),
);
/** Mostly well-formed scripts, sometimes with a stray token spliced in to reach the error paths. */
const script = fc
  .tuple(
    fc.array(fc.tuple(compound, fc.constantFrom(';', '&&', '||', '\n')), { minLength: 1, maxLength: 6 }),
    fc.oneof(
      { arbitrary: fc.constant(null), weight: 4 },
      { arbitrary: fc.tuple(fc.nat(), fc.constantFrom('then', 'fi', 'done', '|', '$(x)', '"', "'", ';;', '}', ')', '&&')), weight: 1 },
    ),
  )
  .map(([parts, noise]) => {
    const tokens = parts.flatMap(([c, sep], i) => (i === parts.length - 1 ? [c] : [c, sep]));
    if (noise) tokens.splice(noise[0] % (tokens.length + 1), 0, noise[1]);
    return tokens.join(' ');
  });

describe('the shell model on generated scripts', () => {
  it('always finishes with a status, and SIGKILL always ends it', async () => {
    await fc.assert(
      fc.asyncProperty(script, fc.constantFrom(false, false, false, true), async (source, kill) => {
        const clock = new VirtualClock();
        const control = new ProcessControl(true);
        let out = '';
        let settled: number | undefined;
        const running = runProcess(['sh', '-c', source], {
          fs: new ContainerFs(),
          clock,
          control,
          env: { X: 'v' },
          io: { stdout: (t) => (out += t), stderr: (t) => (out += t) },
        }).then((code) => (settled = code));
        if (kill) control.kill();
        for (let i = 0; i < 5 && settled === undefined; i++) await clock.advance(10_000);
        if (settled === undefined) control.kill();
        await clock.advance(1);
        const code = await running;
        expect(Number.isInteger(code) && code >= 0 && code <= 255).toBe(true);
        if (kill) expect(code).toBe(137);
        expect(typeof out).toBe('string');
      }),
      { numRuns: 300, seed: 5 },
    );
  }, 120_000);
});
