import type { Command } from 'commander';
import { register as registerConformance } from './conformance.js';
import { register as registerMockApiServer } from './mock-apiserver.js';
import { register as registerSimulate } from './simulate.js';
import { register as registerFuzz } from './fuzz.js';
import { register as registerFakeCsi } from './fake-csi.js';
import { register as registerFakeCri } from './fake-cri.js';
import { register as registerAgent } from './agent.js';
import { register as registerUp } from './up.js';

/**
 * One entry per command module. Each module exports `register(program)` and adds exactly one
 * top-level command (with its subcommands) to the program.
 */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [registerConformance, registerMockApiServer, registerSimulate, registerFuzz, registerFakeCsi, registerFakeCri, registerAgent, registerUp];
