import { openFakeCriTarget } from '../../fakes/cri/conformance-target.js';
import { registerSuites } from '../framework/vitest-adapter.js';
import { suites } from '../suites.js';

// The same suites as conformance/targets/containerd.test.ts, against the in-process fake runtime.
registerSuites(suites, () => openFakeCriTarget());
