import type { Suite } from '../framework/spec.js';
import { kubeletOrderingSuite } from './ordering.js';
import { kubeletPodCgroupsSuite } from './pod-cgroups.js';
import { kubeletNodeSuite } from './node-housekeeping.js';
import { kubeletContainerFilesSuite } from './container-files.js';
import { kubeletSidecarTerminationSuite } from './sidecar-termination.js';
import { kubeletPodHostnamesSuite } from './pod-hostnames.js';
import { kubeletContainerLogsSuite } from './container-logs.js';
import { kubeletEphemeralContainersSuite } from './ephemeral-containers.js';
import { kubeletExecSuite } from './exec.js';
import { kubeletAttachPortForwardSuite } from './attach-port-forward.js';
import { kubeletPodResizeSuite } from './pod-resize.js';

/** The kubelet-level suites: the reference agent run against the target's runtime. */
export const kubeletSuites: readonly Suite[] = [kubeletOrderingSuite, kubeletNodeSuite, kubeletContainerFilesSuite, kubeletPodCgroupsSuite, kubeletSidecarTerminationSuite, kubeletPodHostnamesSuite, kubeletEphemeralContainersSuite, kubeletContainerLogsSuite, kubeletExecSuite, kubeletAttachPortForwardSuite, kubeletPodResizeSuite];
