import type { Suite } from '../framework/spec.js';
import { containersSuite } from './containers.js';
import { execSpdySuite } from './exec-spdy.js';
import { execSuite } from './exec.js';
import { imagesSuite } from './images.js';
import { runtimeInfoSuite } from './runtime-info.js';
import { sandboxesSuite } from './sandboxes.js';

/** The CRI-level suites, in run order: runtime info, images, sandboxes, containers, streaming exec (WebSocket, then SPDY). */
export const criSuites: readonly Suite[] = [runtimeInfoSuite, imagesSuite, sandboxesSuite, containersSuite, execSuite, execSpdySuite];
