import { evictionProperties } from './properties/eviction.js';
import { probeTargetProperties } from './properties/probes.js';
import { qosProperties } from './properties/qos.js';
import { quantityProperties } from './properties/quantity.js';
import type { FuzzTarget, NamedProperty } from './properties/types.js';

export interface FuzzTargetOptions {
  /** fast-check's `replayPath` of a failing model-based (fc.commands) counterexample. */
  readonly commandsReplayPath?: string;
}

/**
 * The properties behind `kubelet-harness fuzz <target>`: the very arrays the vitest suites run, so a
 * failure found by either replays in the other with the same seed and path.
 */
export const fuzzTargets: Readonly<Record<FuzzTarget, (options: FuzzTargetOptions) => readonly NamedProperty[]>> = {
  probes: (options) => probeTargetProperties(options.commandsReplayPath),
  eviction: () => evictionProperties,
  qos: () => qosProperties,
  quantity: () => quantityProperties,
};

export const FUZZ_TARGET_NAMES = Object.keys(fuzzTargets) as FuzzTarget[];
