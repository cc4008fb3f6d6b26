import * as net from 'node:net';
import type { Clock } from '../../clock/clock.js';
import type { ProbeRun } from './types.js';

/**
 * The tcpSocket probe (upstream pkg/probe/tcp): a connection opened within the timeout is a success
 * and is closed at once; a refusal, an unreachable host or the timeout is a failure.
 */
export function tcpProbe(host: string, port: number, options: { timeoutMs: number; clock: Clock }): Promise<ProbeRun> {
  const address = net.isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve) => {
    let done = false;
    const socket = net.connect({ host, port });
    const settle = (run: ProbeRun): void => {
      if (done) return;
      done = true;
      timer.cancel();
      socket.destroy();
      resolve(run);
    };
    const timer = options.clock.setTimeout(() => settle({ result: 'failure', output: `dial tcp ${address}: i/o timeout` }), options.timeoutMs);
    socket.once('connect', () => settle({ result: 'success', output: '' }));
    socket.once('error', (err) => settle({ result: 'failure', output: `dial tcp ${address}: ${err.message}` }));
  });
}
