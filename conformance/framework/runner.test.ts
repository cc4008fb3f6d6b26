import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { realClock } from '../../agent/clock/real-clock.js';
import type { CriClient } from '../../agent/runtime/cri-client.js';
import { runSpec, selectSpecs } from './runner.js';
import { defineSuite } from './spec.js';
import type { Target } from './target.js';

const target: Target = {
  kind: 'fake',
  description: 'test target',
  runtimeEndpoint: 'unix:///nonexistent.sock',
  imageEndpoint: 'unix:///nonexistent.sock',
  images: { pause: 'pause', busybox: 'busybox', missing: 'missing' },
  journal: null,
  clock: realClock,
  close: async () => {},
};
// The specs below never touch the runtime; the runner only passes the client through.
const unusedCri = {} as CriClient;

describe('selectSpecs', () => {
  it('keeps specs matching --focus and drops those matching --skip, listing what it left out', () => {
    const suite = defineSuite('cri/runtime', [
      { title: 'Version answers', run: async () => {} },
      { title: 'ExecSync honours its timeout', run: async () => {} },
      { title: 'StopContainer kills after the timeout', run: async () => {} },
    ]);
    const { selected, filteredOut } = selectSpecs([suite], { focus: /Exec|Stop/, skip: /kills/ });
    expect(selected.map((s) => s.spec.title)).toEqual(['ExecSync honours its timeout']);
    expect(filteredOut).toEqual(['cri/runtime Version answers', 'cri/runtime StopContainer kills after the timeout']);
  });
});

describe('defineSuite', () => {
  it('rejects two specs with the same title', () => {
    expect(() =>
      defineSuite('s', [
        { title: 'same', run: async () => {} },
        { title: 'same', run: async () => {} },
      ]),
    ).toThrow(/duplicate spec title "same"/);
  });
});

describe('runSpec', () => {
  it('reports a thrown assertion as a failure and still runs cleanups in reverse order', async () => {
    const order: string[] = [];
    let tmp = '';
    const suite = defineSuite('s', [
      {
        title: 'fails',
        run: async (ctx) => {
          tmp = ctx.tmpDir;
          ctx.onCleanup(() => order.push('first registered'));
          ctx.onCleanup(() => order.push('second registered'));
          throw new Error('expected 3, got 0');
        },
      },
    ]);
    const result = await runSpec(suite, suite.specs[0]!, target, unusedCri);
    expect(result.status).toBe('failed');
    expect(result.error?.message).toBe('expected 3, got 0');
    expect(order).toEqual(['second registered', 'first registered']);
    expect(existsSync(tmp)).toBe(false);
  });

  it('fails a spec that outlives its timeout and aborts its signal', async () => {
    let aborted = false;
    const suite = defineSuite('s', [
      {
        title: 'hangs',
        timeoutMs: 50,
        run: (ctx) =>
          new Promise<void>((resolve) => {
            ctx.signal.addEventListener('abort', () => {
              aborted = true;
              resolve();
            });
          }),
      },
    ]);
    const result = await runSpec(suite, suite.specs[0]!, target, unusedCri);
    expect(result.status).toBe('failed');
    expect(result.error?.message).toMatch(/timed out after 50 ms/);
    expect(aborted).toBe(true);
  });

  it('attaches the divergence note of the current target and keeps spec logs', async () => {
    const suite = defineSuite('s', [
      {
        title: 'passes',
        divergence: { fake: 'the fake has no real processes', containerd: 'not this one' },
        run: async (ctx) => ctx.log(`name ${ctx.uniqueName('pod')}`),
      },
    ]);
    const result = await runSpec(suite, suite.specs[0]!, target, unusedCri);
    expect(result).toMatchObject({ status: 'passed', divergence: 'the fake has no real processes' });
    expect(result.logs[0]).toMatch(/^name pod-\w+-0$/);
  });
});
