import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import {
  MAX_CONTAINER_TERMINATION_MESSAGE_LOG_LENGTH,
  MAX_CONTAINER_TERMINATION_MESSAGE_LOG_LINES,
  MAX_POD_TERMINATION_MESSAGE_LOG_LENGTH,
  lastLogText,
  limitTerminationMessages,
} from '../agent/kuberuntime/termination-message.js';

/** The termination message rules (agent/kuberuntime/termination-message.ts) over random pods and logs. */

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

const messageArb = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 3000 }),
  fc.string({ minLength: 3000, maxLength: 6000 }),
);

const podCaseArb = fc
  .record({ containers: fc.integer({ min: 1, max: 6 }), inits: fc.integer({ min: 0, max: 3 }) })
  .chain(({ containers, inits }) =>
    fc.record({
      containers: fc.constant(containers),
      inits: fc.constant(inits),
      messages: fc.array(fc.record({ state: fc.option(messageArb), last: fc.option(messageArb) }), { minLength: containers + inits, maxLength: containers + inits }),
    }),
  );

function statusOf(name: string, m: { state: string | null; last: string | null }): V1ContainerStatus {
  return {
    name,
    image: '',
    imageID: '',
    ready: false,
    restartCount: 0,
    ...(m.state !== null ? { state: { terminated: { exitCode: 1, message: m.state } } } : { state: { running: {} } }),
    ...(m.last !== null ? { lastState: { terminated: { exitCode: 1, message: m.last } } } : {}),
  };
}

describe('termination message properties (500 runs each)', () => {
  it('the pod budget leaves every message a prefix of itself within its share, and untouched when it fits', () => {
    fc.assert(
      fc.property(podCaseArb, ({ containers, inits, messages }) => {
        const names = Array.from({ length: containers + inits }, (_, i) => `c${i}`);
        const pod: V1Pod = {
          spec: {
            containers: names.slice(0, containers).map((name) => ({ name })),
            initContainers: names.slice(containers).map((name) => ({ name })),
          },
        };
        const statuses = names.map((n, i) => statusOf(n, messages[i]!));
        const out = limitTerminationMessages(pod, {
          containerStatuses: statuses.slice(0, containers),
          initContainerStatuses: statuses.slice(containers),
        });
        const share = Math.floor(MAX_POD_TERMINATION_MESSAGE_LOG_LENGTH / (containers + inits));
        const after = [...(out.containerStatuses ?? []), ...(out.initContainerStatuses ?? [])];
        return after.every((s, i) => {
          const before = messages[i]!;
          for (const [was, now] of [
            [before.state, s.state?.terminated?.message],
            [before.last, s.lastState?.terminated?.message],
          ] as const) {
            if (was === null) continue;
            if (now === undefined || !was.startsWith(now) || bytes(now) > share) return false;
            if (bytes(was) <= share && now !== was) return false;
            // Cut only at a character boundary: at most 3 bytes short of the share.
            if (bytes(was) > share && bytes(now) < share - 3) return false;
          }
          return true;
        });
      }),
      { numRuns: 500 },
    );
  });

  const entryArb = fc.record({
    stream: fc.constantFrom('stdout', 'stderr'),
    partial: fc.boolean(),
    text: fc.string({ unit: fc.constantFrom(...'abcdefghij XYZ0123456789:-_'.split('')), maxLength: 120 }),
  });

  it('the log fallback is the tail of the last 80 lines, at most 2048 bytes, whole when it fits', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 200 }), (entries) => {
        const log = entries.map((e) => `2026-11-27T09:00:00.000000000Z ${e.stream} ${e.partial ? 'P' : 'F'} ${e.text}\n`).join('');
        const content = entries
          .slice(-MAX_CONTAINER_TERMINATION_MESSAGE_LOG_LINES)
          .map((e) => (e.partial ? e.text : `${e.text}\n`))
          .join('');
        const got = lastLogText(log);
        if (bytes(got) > MAX_CONTAINER_TERMINATION_MESSAGE_LOG_LENGTH) return false;
        if (bytes(content) <= MAX_CONTAINER_TERMINATION_MESSAGE_LOG_LENGTH) return got === content;
        return content.endsWith(got) && bytes(got) === MAX_CONTAINER_TERMINATION_MESSAGE_LOG_LENGTH;
      }),
      { numRuns: 500 },
    );
  });
});
