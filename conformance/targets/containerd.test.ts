import { inject } from 'vitest';
import { registerSuites } from '../framework/vitest-adapter.js';
import { suites } from '../suites.js';
import { runtimeTarget } from './runtime-target.js';

// The runtime was provisioned (and is torn down) by ci/vitest/containerd-global-setup.ts.
registerSuites(suites, async () => runtimeTarget(inject('criTarget'), async () => {}));
