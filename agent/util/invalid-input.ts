/**
 * Bad user input (a scenario file, a probe spec, a flag) that names the offending field, e.g.
 * `events[3].t: must not be earlier than the previous event (12)`. Thrown by the pure decision
 * modules so the CLI can print it as is, without a stack trace.
 */
export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
  constructor(
    /** Path of the field in the input, in JavaScript notation (`probes.liveness.periodSeconds`). */
    readonly field: string,
    /** What is wrong with it, as a sentence fragment (`must be an integer >= 0`). */
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** Reads a plain object or throws naming `field`. */
export function expectObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError(field, `must be an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/** Reads an array or throws naming `field`. */
export function expectArray(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw new InvalidInputError(field, `must be an array, got ${describe(value)}`);
  return value;
}

/** Reads a finite number (optionally an integer within bounds) or throws naming `field`. */
export function expectNumber(
  value: unknown,
  field: string,
  options: { integer?: boolean; min?: number; max?: number } = {},
): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidInputError(field, `must be a finite number, got ${describe(value)}`);
  }
  if (options.integer === true && !Number.isInteger(value)) {
    throw new InvalidInputError(field, `must be an integer, got ${value}`);
  }
  if (options.min !== undefined && value < options.min) {
    throw new InvalidInputError(field, `must be >= ${options.min}, got ${value}`);
  }
  if (options.max !== undefined && value > options.max) {
    throw new InvalidInputError(field, `must be <= ${options.max}, got ${value}`);
  }
  return value;
}

/** Reads a non-empty string or throws naming `field`. */
export function expectString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidInputError(field, `must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

/** Reads one of the allowed strings or throws naming `field` and listing the choices. */
export function expectOneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidInputError(field, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}
