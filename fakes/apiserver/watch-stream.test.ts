import { getResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { startMockApiServer } from './server.js';
import { createWatchStream } from './watch-stream.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('watch streams', () => {
  it('deliver nothing until a consumer appears, then batch a turn\'s lines into one chunk of the body', async () => {
    let cancelled = 0;
    const stream = createWatchStream(() => cancelled++);
    stream.sink.push('{"a":1}\n');
    stream.sink.push(Buffer.from('{"b":2}\n'));
    await tick();
    const reader = stream.body.getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value ?? []).toString()).toBe('{"a":1}\n{"b":2}\n');
    stream.sink.push('{"c":3}\n');
    stream.sink.end();
    expect(Buffer.from((await reader.read()).value ?? []).toString()).toBe('{"c":3}\n');
    expect((await reader.read()).done).toBe(true);
    expect(cancelled).toBe(0);
  });

  it('stop writing to an attached writer that reports a full buffer until it drains', async () => {
    const written: string[] = [];
    let full = true;
    let drain: () => void = () => undefined;
    let ended = false;
    const stream = createWatchStream(() => undefined);
    stream.attach({
      write: (chunk) => {
        written.push(chunk.toString());
        return !full;
      },
      onDrain: (listener) => (drain = listener),
      end: () => (ended = true),
      destroy: () => undefined,
    });
    stream.sink.push('1\n');
    await tick();
    stream.sink.push('2\n');
    stream.sink.push('3\n');
    stream.sink.end();
    await tick();
    expect(written).toEqual(['1\n']);
    expect(ended).toBe(false);
    full = false;
    drain();
    await tick();
    expect(written).toEqual(['1\n', '2\n3\n']);
    expect(ended).toBe(true);
  });

  it('refuse more lines once a consumer is further behind than the limit', () => {
    const stream = createWatchStream(() => undefined, 10);
    expect(stream.sink.push('12345\n')).toBe(true);
    expect(stream.sink.push('123456\n')).toBe(false);
  });

  it('work as the Response body of the msw handlers for an in-process consumer', async () => {
    const server = await startMockApiServer();
    try {
      const rv = server.store.resourceVersion;
      server.registry.create(server.registry.type('', 'configmaps'), 'default', { metadata: { name: 'c1' } });
      const response = await getResponse(server.handlers, new Request(`${server.url}/api/v1/configmaps?watch=1&resourceVersion=${rv}&timeoutSeconds=1`), {
        baseUrl: server.url,
      });
      expect(response?.status).toBe(200);
      const text = await response?.text();
      expect(text?.trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string } } })).toEqual([
        { type: 'ADDED', object: expect.objectContaining({ metadata: expect.objectContaining({ name: 'c1' }) }) },
      ]);
    } finally {
      await server.close();
    }
  });
});

describe('watch backpressure over HTTP', () => {
  it('disconnects a watcher that stops reading once it is further behind than the limit, after delivering what was queued', async () => {
    const { request } = await import('node:http');
    const server = await startMockApiServer({ watchMaxPendingBytes: 256 * 1024 });
    try {
      const rv = server.store.resourceVersion;
      const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
        const req = request(`${server.url}/api/v1/configmaps?watch=true&resourceVersion=${rv}`, resolve);
        req.on('error', reject);
        req.end();
      });
      res.pause();
      const cms = server.registry.type('', 'configmaps');
      const filler = 'x'.repeat(4096);
      let written = 0;
      for (let i = 0; i < 4000 && server.watchCount('configmaps') > 0; i++) {
        server.registry.create(cms, 'default', { metadata: { name: `c${i}` }, data: { filler } });
        written++;
        if (i % 50 === 0) await new Promise((r) => setImmediate(r));
      }
      expect(server.watchCount('configmaps')).toBe(0);
      expect(written).toBeLessThan(4000);
      let lines = 0;
      let tail = '';
      res.on('data', (chunk: Buffer) => {
        const text = tail + chunk.toString();
        const parts = text.split('\n');
        tail = parts.pop() ?? '';
        lines += parts.length;
      });
      res.resume();
      await new Promise<void>((resolve, reject) => {
        res.on('end', resolve);
        res.on('error', reject);
      });
      expect(tail).toBe('');
      expect(lines).toBeGreaterThan(0);
      expect(lines).toBeLessThanOrEqual(written);
    } finally {
      await server.close();
    }
  });
});
