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
