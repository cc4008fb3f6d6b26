import { criSuites } from './cri/index.js';
import { kubeletSuites } from './kubelet/index.js';
import type { Suite } from './framework/spec.js';

/**
 * Every conformance suite, in run order. Each spec folder (cri/, kubelet/, ...) exports its suites from
 * its index; the CLI and the vitest targets both run exactly this list.
 */
export const suites: readonly Suite[] = [...criSuites, ...kubeletSuites];
