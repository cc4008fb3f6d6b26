/**
 * Value syntaxes of kubelet command-line flags (pflag and component-base `cliflag` types), so
 * `--kube-reserved cpu=100m,memory=1Gi` or `--eviction-hard memory.available<100Mi` parse the way
 * kubelet parses them. Each parser throws an Error whose message is the problem only; callers
 * prefix the flag name.
 */

/** `k1=v1,k2=v2` (cliflag.MapStringString): keys and values trimmed, later duplicates win. */
export function parseMapStringString(text: string): Record<string, string> {
  return parsePairs(text, '=');
}

/** `k1<v1,k2<v2` (cliflag.LangleSeparatedMapStringString), used by `--eviction-hard/-soft`. */
export function parseLangleSeparated(text: string): Record<string, string> {
  return parsePairs(text, '<');
}

function parsePairs(text: string, separator: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(',')) {
    const pair = raw.trim();
    if (pair === '') continue;
    const at = pair.indexOf(separator);
    if (at < 0) throw new Error(`malformed pair ${JSON.stringify(pair)}, expect string${separator}string`);
    out[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return out;
}

/** `Gate1=true,Gate2=false` (cliflag.MapStringBool). */
export function parseMapStringBool(text: string): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const [key, value] of Object.entries(parseMapStringString(text))) out[key] = parseGoBool(value);
  return out;
}

/** Comma-separated list (pflag StringSlice); the empty string is the empty list. */
export function parseStringList(text: string): string[] {
  if (text.trim() === '') return [];
  return text.split(',').map((s) => s.trim());
}

/** Go's strconv.ParseBool. */
export function parseGoBool(text: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(text)) return false;
  throw new Error(`invalid boolean ${JSON.stringify(text)}`);
}

/** A decimal integer within [min, max] (int32 by default), as strconv.ParseInt does. */
export function parseGoInt(text: string, min = -2147483648, max = 2147483647): number {
  if (!/^[+-]?\d+$/.test(text.trim())) throw new Error(`invalid integer ${JSON.stringify(text)}`);
  const value = Number(text.trim());
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new Error(`integer ${text} out of range`);
  }
  return value;
}

/** A decimal floating-point number (float32 fields such as kubeAPIQPS). */
export function parseGoFloat(text: string): number {
  const value = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(value)) throw new Error(`invalid number ${JSON.stringify(text)}`);
  return value;
}
