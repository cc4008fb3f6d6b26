#!/usr/bin/env -S node --max-semi-space-size=16
import { Command } from 'commander';
import { commands } from './commands/index.js';
import { harnessVersion } from './version.js';

/** `kubelet-harness <command>`: every command lives in ./commands and registers itself here. */
export function buildProgram(): Command {
  const program = new Command('kubelet-harness')
    .description('Reference kubelet, wire-level fakes and conformance suite for Kubernetes node agents')
    .version(harnessVersion())
    .showHelpAfterError()
    .enablePositionalOptions();
  for (const register of commands) register(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
