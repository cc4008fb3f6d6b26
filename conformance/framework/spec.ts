import type { Target, TargetKind } from './target.js';
import type { CriClient } from '../../agent/runtime/cri-client.js';
import type { Journal } from '../../fakes/journal/journal.js';

/**
 * What a spec gets to work with. Specs are written once against this context and run unchanged on every
 * target (the fakes, a provisioned containerd, any runtime endpoint a user names).
 */
export interface SpecContext {
  readonly target: Target;
  /** A CRI client connected to the target's runtime and image endpoints. */
  readonly cri: CriClient;
  /** The target's journal when it has one (fakes do; a foreign runtime does not). */
  readonly journal: Journal | null;
  /** A private directory for this spec, removed afterwards. */
  readonly tmpDir: string;
  /** Aborted when the spec times out. */
  readonly signal: AbortSignal;
  /** Registers a cleanup step; steps run in reverse order after the spec, pass or fail. */
  onCleanup(fn: () => unknown): void;
  /** A name unique to this run, for pod sandboxes and containers (`<prefix>-<run>-<n>`). */
  uniqueName(prefix: string): string;
  /** Adds a line to the spec's report output. */
  log(message: string): void;
}

export interface SpecDefinition {
  /** A sentence saying what must hold, e.g. "ExecSync honours its timeout". */
  readonly title: string;
  readonly run: (ctx: SpecContext) => Promise<void>;
  readonly timeoutMs?: number;
  /**
   * Named divergences: where a target is known to behave differently from containerd and the spec
   * accounts for it, the note says how. Reports print it beside the result; nothing is hidden.
   */
  readonly divergence?: Partial<Record<TargetKind, string>>;
}

export interface Suite {
  /** Short identifier used in reports and by --focus/--skip, e.g. "cri/runtime". */
  readonly name: string;
  readonly specs: readonly SpecDefinition[];
}

export function defineSuite(name: string, specs: readonly SpecDefinition[]): Suite {
  const titles = new Set<string>();
  for (const spec of specs) {
    if (titles.has(spec.title)) throw new Error(`suite ${name}: duplicate spec title "${spec.title}"`);
    titles.add(spec.title);
  }
  return { name, specs };
}

/** The identifier --focus and --skip match against: "<suite> <title>". */
export function specId(suite: Suite, spec: SpecDefinition): string {
  return `${suite.name} ${spec.title}`;
}
