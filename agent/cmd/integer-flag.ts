/**
 * A command-line integer option within [min, max]; throws naming the flag.
 * @example integerFlag('--port', '8080', 0, 65_535) // 8080
 */
export function integerFlag(flag: string, raw: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new Error(`${flag} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return Number(raw);
}
