/**
 * The CRI message types the fake uses, from proto/generated (agent/runtime/proto.ts loader options:
 * camelCase fields, int64 as decimal strings, enums as names, defaults filled in). Requests arrive as
 * `__Output` shapes (every field present); responses are built as the looser input shapes.
 */
export type { ContainerConfig__Output as ContainerConfig } from '../../proto/generated/cri/runtime/v1/ContainerConfig.js';
export type { PodSandboxConfig__Output as PodSandboxConfig } from '../../proto/generated/cri/runtime/v1/PodSandboxConfig.js';
export type { PodSandboxMetadata__Output as PodSandboxMetadata } from '../../proto/generated/cri/runtime/v1/PodSandboxMetadata.js';
export type { ContainerMetadata__Output as ContainerMetadata } from '../../proto/generated/cri/runtime/v1/ContainerMetadata.js';
export type { LinuxContainerResources__Output as LinuxContainerResources } from '../../proto/generated/cri/runtime/v1/LinuxContainerResources.js';
export type { ImageSpec__Output as ImageSpec } from '../../proto/generated/cri/runtime/v1/ImageSpec.js';
export type { Mount__Output as Mount } from '../../proto/generated/cri/runtime/v1/Mount.js';
export type { ContainerState__Output as ContainerStateName } from '../../proto/generated/cri/runtime/v1/ContainerState.js';
export type { PodSandboxState__Output as SandboxStateName } from '../../proto/generated/cri/runtime/v1/PodSandboxState.js';

export type StringMap = Record<string, string>;
