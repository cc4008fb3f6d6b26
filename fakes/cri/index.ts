/** The fake CRI runtime: programmatic start, state model, fault rules and helpers for specs. */
export { startFakeCri, type FakeCri, type StartFakeCriOptions } from './server.js';
export { FakeRuntime, type FakeRuntimeOptions, type RuntimeCondition } from './runtime.js';
export { FaultInjector, faultRulesFromJson, type FaultRule, type FaultEffect, type FiredFault, type RequestMatcher } from './faults.js';
export { ImageStore, DEFAULT_PULL_RULES, type ImagePullRule, type PullOutcome, type StoredImage } from './image-store.js';
export { normalizeImageRef, parseImageRef, type ImageRef } from './image-ref.js';
export { decideBehaviour, CONTAINER_PORTS_ANNOTATION, type ContainerBehaviour } from './behaviour.js';
export { parseCriLogLine } from './cri-log.js';
export { openFakeCriTarget, FAKE_TEST_IMAGES } from './conformance-target.js';
export { Code as GrpcCode, CriError as FakeCriError } from './errors.js';
export { startStreamingServer, type StreamingServer, type StreamingServerOptions, type ExecStreamRequest, type ExecStreams } from './streaming-server.js';
export { runChannelExec, UpgradeRefused, type ChannelExecOptions, type ChannelExecResult } from './streaming-client.js';
export { runPortForward, type PortForwardResult } from './streaming-client.js';
export type { AttachStreamRequest, AttachRunner, PortDialer, PortForwardStreamRequest } from './streaming-server.js';
