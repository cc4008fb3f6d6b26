import { inject } from 'vitest';
import { registerSuites } from '../framework/vitest-adapter.js';
import { suites } from '../suites.js';
import { runtimeTargetWithCniJournal } from './runtime-target.js';

// The runtime was provisioned (and is torn down) by ci/vitest/containerd-global-setup.ts, with the project's CNI
// plugin chained after bridge; its ADD/DEL calls reach this worker's target journal through the sink opened here.
registerSuites(suites, () => runtimeTargetWithCniJournal(inject('criTarget'), inject('cniJournalSocket'), async () => {}));
