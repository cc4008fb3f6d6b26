import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { closeHttpServer, listenHttp } from './listen-http.js';

describe('listenHttp and closeHttpServer', () => {
  it('listen on a free loopback port, answer on the returned url, and close twice without error', async () => {
    const server = createServer((_req, res) => res.end('hi'));
    const endpoint = await listenHttp(server, 0, '127.0.0.1');
    expect(endpoint.port).toBeGreaterThan(0);
    expect(endpoint.url).toBe(`http://127.0.0.1:${endpoint.port}`);
    expect(await (await fetch(endpoint.url)).text()).toBe('hi');
    await closeHttpServer(server);
    expect(server.listening).toBe(false);
    await closeHttpServer(server);
  });

  it('reject with the listen error when the port is taken', async () => {
    const first = createServer();
    const { port } = await listenHttp(first, 0, '127.0.0.1');
    try {
      await expect(listenHttp(createServer(), port, '127.0.0.1')).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await closeHttpServer(first);
    }
  });

  it('put an IPv6 host in brackets and name the scheme asked for', async () => {
    const server = createServer();
    const endpoint = await listenHttp(server, 0, '::1', 'https');
    await closeHttpServer(server);
    expect(endpoint.url).toBe(`https://[::1]:${endpoint.port}`);
  });

  it('end a request still in flight on close instead of waiting for its answer', async () => {
    let arrived!: () => void;
    const inFlight = new Promise<void>((r) => (arrived = r));
    const server = createServer(() => arrived()); // never answers
    const { url } = await listenHttp(server, 0, '127.0.0.1');
    const request = fetch(url).then(
      () => 'answered',
      () => 'dropped',
    );
    await inFlight;
    await closeHttpServer(server);
    expect(await request).toBe('dropped');
  });
});
