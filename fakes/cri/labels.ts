/** CRI label selectors: every key/value of the selector must be present and equal (AND of equalities). */
export function matchesLabels(labels: Readonly<Record<string, string>> | undefined, selector: Readonly<Record<string, string>> | undefined | null): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector)) {
    if (labels?.[k] !== v) return false;
  }
  return true;
}

/**
 * Resolves a full ID or a unique ID prefix, as containerd's truncindex does. Returns the full ID,
 * undefined when nothing matches, or throws when the prefix is ambiguous.
 */
export function resolveIdPrefix(ids: Iterable<string>, wanted: string, has: (id: string) => boolean): string | undefined {
  if (has(wanted)) return wanted;
  if (wanted === '') return undefined;
  let found: string | undefined;
  for (const id of ids) {
    if (!id.startsWith(wanted)) continue;
    if (found !== undefined) throw new AmbiguousIdError(wanted);
    found = id;
  }
  return found;
}

export class AmbiguousIdError extends Error {
  constructor(prefix: string) {
    super(`ambiguous ID prefix "${prefix}"`);
  }
}
