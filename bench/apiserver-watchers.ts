/**
 * The watch consumers of bench/apiserver.ts, in their own worker thread so that reading the streams does not
 * slow the request loop (the bare baseline has no watchers): opens N pod watches from a resourceVersion and
 * counts the NDJSON lines each receives.
 */
import { request } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

interface WatchersInput {
  url: string;
  resourceVersion: string;
  count: number;
}

const input = workerData as WatchersInput;
const port = parentPort;
if (!port) throw new Error('bench/apiserver-watchers.ts runs as a worker thread of bench/apiserver.ts');

const counts: number[] = [];
const closers: Array<() => void> = [];

function open(index: number): Promise<void> {
  return new Promise((resolve, reject) => {
    counts[index] = 0;
    const req = request(`${input.url}/api/v1/pods?watch=true&resourceVersion=${input.resourceVersion}`, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`watch answered ${res.statusCode}`));
        return;
      }
      res.on('data', (chunk: Buffer) => {
        let n = 0;
        for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) n++;
        counts[index] = (counts[index] ?? 0) + n;
      });
      res.on('error', () => undefined);
      closers.push(() => req.destroy());
      resolve();
    });
    req.on('error', reject);
    req.end();
  });
}

await Promise.all(Array.from({ length: input.count }, (_, i) => open(i)));
port.postMessage({ ready: true });
port.on('message', (msg: string) => {
  if (msg === 'count') port.postMessage({ events: counts.reduce((a, b) => a + b, 0) });
  if (msg === 'close') {
    for (const close of closers) close();
    process.exit(0);
  }
});
