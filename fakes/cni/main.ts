#!/usr/bin/env node
import { runCniPlugin } from './plugin.js';

/** kubelet-harness-cni: a CNI plugin executable (env + stdin in, result JSON + exit code out). */
async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const outcome = await runCniPlugin({ env: process.env, stdin: await readStdin() });
if (outcome.stderr) process.stderr.write(outcome.stderr);
if (outcome.stdout) process.stdout.write(`${outcome.stdout}\n`);
process.exitCode = outcome.exitCode;
