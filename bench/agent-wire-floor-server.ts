/**
 * The CRI side of the wire's floor (bench/agent-wire-floor.ts): a bare grpc-js server with the CRI
 * services that answers every unary call with the next recorded answer of its method, in turn, and
 * does nothing else. Listens on a unix socket (0600) in a private directory.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadCriProto } from '../agent/runtime/proto.js';

export interface CannedCriServer {
  readonly endpoint: string;
  /** Replaces the answers given from now on (per method, in turn; the list restarts when used up). */
  setAnswers(answers: ReadonlyMap<string, readonly unknown[]>): void;
  /** Calls answered so far, and calls of a method without a recorded answer (failed with UNIMPLEMENTED). */
  readonly counts: { answered: number; unanswered: number };
  close(): Promise<void>;
}

export async function startCannedCriServer(): Promise<CannedCriServer> {
  const cri = loadCriProto();
  let answers: ReadonlyMap<string, readonly unknown[]> = new Map();
  const next = new Map<string, number>();
  const counts = { answered: 0, unanswered: 0 };
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  const handlers = (definition: grpc.ServiceDefinition): grpc.UntypedServiceImplementation => {
    const impl: grpc.UntypedServiceImplementation = {};
    for (const [method, def] of Object.entries(definition)) {
      if (def.responseStream || def.requestStream) continue;
      impl[method] = (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const list = answers.get(method);
        if (!list || list.length === 0) {
          counts.unanswered++;
          callback({ code: grpc.status.UNIMPLEMENTED, details: `no recorded answer for ${method}` });
          return;
        }
        const i = next.get(method) ?? 0;
        next.set(method, (i + 1) % list.length);
        counts.answered++;
        callback(null, list[i]);
      };
    }
    return impl;
  };
  server.addService(cri.RuntimeService.service, handlers(cri.RuntimeService.service));
  server.addService(cri.ImageService.service, handlers(cri.ImageService.service));
  const dir = mkdtempSync(join(tmpdir(), 'kubelet-harness-wire-floor-'));
  const socket = join(dir, 'cri.sock');
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  chmodSync(socket, 0o600);
  return {
    endpoint: `unix://${socket}`,
    setAnswers(a) {
      answers = a;
      next.clear();
    },
    counts,
    close: async () => {
      server.forceShutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
