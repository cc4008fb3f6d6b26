/**
 * The server side of bench/apiserver.ts, run in a worker thread so the servers under test and the load
 * generator each have their own event loop: either the mock API server or a bare node:http server
 * that reads the request body and answers a fixed JSON body of a given size.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { startMockApiServer } from '../fakes/apiserver/server.js';

interface WorkerInput {
  mode: 'mock' | 'bare';
  /** Bare mode: size of the JSON body it answers with. */
  bodyBytes?: number;
}

const input = workerData as WorkerInput;
const port = parentPort;
if (!port) throw new Error('bench/apiserver-worker.ts runs as a worker thread of bench/apiserver.ts');

if (input.mode === 'mock') {
  const server = await startMockApiServer({ historyLimit: 5_000 });
  port.postMessage({ url: server.url });
  port.on('message', (msg: string) => {
    if (msg === 'cpu') port.postMessage({ cpu: process.threadCpuUsage() });
    if (msg === 'close') void server.close().then(() => process.exit(0));
  });
} else {
  const size = input.bodyBytes ?? 1024;
  const filler = 'x'.repeat(Math.max(0, size - '{"kind":"Pod","padding":""}'.length));
  const body = Buffer.from(JSON.stringify({ kind: 'Pod', padding: filler }));
  const server: Server = createServer({ noDelay: true }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(201, { 'content-type': 'application/json', 'content-length': body.length });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port.postMessage({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  port.on('message', (msg: string) => {
    if (msg === 'cpu') port.postMessage({ cpu: process.threadCpuUsage() });
    if (msg === 'close') {
      server.closeAllConnections();
      server.close(() => process.exit(0));
    }
  });
}
