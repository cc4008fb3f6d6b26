import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { defineSuite, type SpecContext } from '../framework/spec.js';
import { createPod, shellContainer, startAgent, waitForPod, type AgentUnderTest } from './support.js';

/**
 * `kubectl logs` through the API on every runtime: the mock API server's pods/log proxies to the
 * agent's kubelet server, which reads the log files the runtime wrote (containerd's own writer on the
 * containerd target). The current instance, the previous one after a restart, tailLines, timestamps
 * and a follow that stays open for what the container writes next.
 */

interface LogAnswer {
  readonly code: number;
  readonly body: string;
}

async function podLog(agent: AgentUnderTest, name: string, query: string): Promise<LogAnswer> {
  const res = await fetch(`${agent.api.url}/api/v1/namespaces/${agent.namespace}/pods/${name}/log?${query}`);
  return { code: res.status, body: await res.text() };
}

/** Reads a followed log until `until` holds of what arrived; the stream must still be open then. */
async function follow(ctx: SpecContext, agent: AgentUnderTest, name: string, until: (text: string) => boolean, timeoutMs = 20_000): Promise<string> {
  const aborter = new AbortController();
  ctx.onCleanup(() => aborter.abort());
  const res = await fetch(`${agent.api.url}/api/v1/namespaces/${agent.namespace}/pods/${name}/log?follow=true`, { signal: aborter.signal });
  assert.equal(res.status, 200, 'a follow is answered 200');
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const timer = setTimeout(() => aborter.abort(), timeoutMs);
  try {
    while (!until(text)) {
      const { value, done } = await reader.read();
      assert.ok(!done, `the followed stream stays open until the expected output arrived; got ${JSON.stringify(text)}`);
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(timer);
    aborter.abort();
  }
  return text;
}

const secondRunning = (p: V1Pod): boolean => {
  const cs = p.status?.containerStatuses?.[0];
  return (cs?.restartCount ?? 0) >= 1 && cs?.state?.running !== undefined;
};

export const kubeletContainerLogsSuite = defineSuite('kubelet/container-logs', [
  {
    title: "pods/log returns what a container wrote: the current instance, the previous one after a restart, its tail and timestamps, and a follow that delivers later output",
    timeoutMs: 90_000,
    run: async (ctx) => {
      // crashLoopBackOff capped at 1 s: the restart comes without the default 10 s wait.
      const agent = await startAgent(ctx, { port: 0, crashLoopBackOff: { maxContainerRestartPeriod: 1_000 } }, { serveKubeletServer: true });
      const image = ctx.target.images.busybox;
      const name = ctx.uniqueName('kh-logs');
      // The first instance leaves a mark in the pod's emptyDir and fails; the second finds it and stays.
      const script = [
        'if [ -f /data/ran ]; then echo second run; sleep 2; echo later; sleep 3600',
        'else touch /data/ran; echo first run; echo to stderr >&2; exit 1; fi',
      ].join('; ');
      await createPod(agent, {
        metadata: { name },
        spec: {
          terminationGracePeriodSeconds: 1,
          volumes: [{ name: 'data', emptyDir: {} }],
          containers: [shellContainer('app', image, script, { volumeMounts: [{ name: 'data', mountPath: '/data' }] })],
        },
      });
      await waitForPod(ctx, agent, name, 'the second instance runs', secondRunning, 60_000);

      const followed = await follow(ctx, agent, name, (t) => t.includes('later\n'));
      assert.equal(followed, 'second run\nlater\n', 'the follow delivers the current instance line by line');

      const current = await podLog(agent, name, '');
      assert.deepEqual(current, { code: 200, body: 'second run\nlater\n' }, 'the current instance');

      const previous = await podLog(agent, name, 'previous=true');
      assert.equal(previous.code, 200);
      // stdout and stderr are copied separately by the runtime: their relative order is not fixed.
      assert.deepEqual(previous.body.split('\n').filter(Boolean).sort(), ['first run', 'to stderr'], 'the previous instance, both streams');

      assert.deepEqual(await podLog(agent, name, 'tailLines=1'), { code: 200, body: 'later\n' }, 'tailLines counts from the end');
      const stamped = await podLog(agent, name, 'timestamps=true&limitBytes=200');
      assert.match(stamped.body, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) second run\n\S+ later\n$/, `timestamps prefix each line, got ${JSON.stringify(stamped.body)}`);

      const wrong = await podLog(agent, name, 'container=nope');
      assert.equal(wrong.code, 400, 'an unknown container is a bad request');
      assert.match(wrong.body, /container nope is not valid for pod/);
    },
  },
]);
