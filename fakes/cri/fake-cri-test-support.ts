/** Shared by the tests that drive the fake CRI over its socket: the server with a client and a log directory, and the outcome of a call. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { createCriClient, type CriClient } from '../../agent/runtime/cri-client.js';
import { CriError } from '../../agent/runtime/rpc-error.js';
import { startFakeCri, type FakeCri, type StartFakeCriOptions } from './server.js';

export interface FakeCriWithClient {
  readonly fake: FakeCri;
  readonly cri: CriClient;
  /** A fresh directory for the pods' logs. */
  readonly logDir: string;
}

/** Registers the afterEach that closes (in reverse order) what the test started; returns the function that starts one. */
export function useFakeCriWithClient(): (options?: StartFakeCriOptions) => Promise<FakeCriWithClient> {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
  return async (options = {}) => {
    const fake = await startFakeCri(options);
    cleanups.push(() => fake.close());
    const cri = createCriClient({ runtimeEndpoint: fake.endpoint, timeoutMs: 5_000 });
    cleanups.push(() => cri.close());
    const logDir = mkdtempSync(join(tmpdir(), 'fake-cri-test-'));
    cleanups.push(() => rmSync(logDir, { recursive: true, force: true }));
    return { fake, cri, logDir };
  };
}

/** 'OK', or the CRI error's kind and details, for the call; any other failure is rethrown. */
export async function kindOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'OK';
  } catch (err) {
    if (err instanceof CriError) return `${err.kind}: ${err.details}`;
    throw err;
  }
}
