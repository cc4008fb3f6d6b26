import { afterEach, describe, expect, it } from 'vitest';
import { createCriClient, type CriClient } from '../agent/runtime/cri-client.js';
import { CriError } from '../agent/runtime/rpc-error.js';
import { startCannedCriServer, type CannedCriServer } from './agent-wire-floor-server.js';

describe('the wire floor canned CRI server', () => {
  let server: CannedCriServer | undefined;
  let cri: CriClient | undefined;
  afterEach(async () => {
    cri?.close();
    await server?.close();
  });

  it('answers each call with the next recorded answer of its method, in turn, and refuses methods it has none for', async () => {
    server = await startCannedCriServer();
    cri = createCriClient({ runtimeEndpoint: server.endpoint, timeoutMs: 5_000 });
    server.setAnswers(new Map([['RunPodSandbox', [{ podSandboxId: 'first' }, { podSandboxId: 'second' }]], ['ImageStatus', [{ image: null, info: {} }]]]));
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await cri.runPodSandbox({ config: { hostname: `p${i}` } })).podSandboxId);
    expect(ids).toEqual(['first', 'second', 'first']);
    expect((await cri.imageStatus({ image: { image: 'busybox' } })).image).toBeNull();
    const refused = await cri.version({}, { retryUnavailable: false }).catch((e: unknown) => e);
    expect(CriError.is(refused, 'Unimplemented')).toBe(true);
    expect(server.counts).toEqual({ answered: 4, unanswered: 1 });
  });
});
