import type { IAsyncPropertyWithHooks, IPropertyWithHooks } from 'fast-check';

/**
 * A property the `kubelet-harness fuzz` command and the vitest suites both run. Defined once here so a
 * failure found by `fuzz --seed S` replays identically under `npx vitest` and vice versa.
 */
export interface NamedProperty {
  /** Stable, sentence-like name; also the `--property` filter key of `kubelet-harness fuzz`. */
  readonly name: string;
  readonly property: IPropertyWithHooks<unknown[]> | IAsyncPropertyWithHooks<unknown[]>;
}

/** The fuzz targets of `kubelet-harness fuzz <target>`. */
export type FuzzTarget = 'probes' | 'eviction' | 'qos' | 'quantity';
