import { parseGoDuration } from './duration.js';
import { CONFIG_FIELDS, FLAG_ONLY, FLAG_TO_FIELD, IGNORED_UPSTREAM_FLAGS, type FieldKind } from './fields.js';
import {
  parseGoBool,
  parseGoFloat,
  parseGoInt,
  parseLangleSeparated,
  parseMapStringBool,
  parseMapStringString,
  parseStringList,
} from './flag-syntax.js';
import type { ConfigProblem, KubeletConfiguration, KubeletFlagOnlySettings } from './types.js';

/** A flag's value(s) as given: text in kubelet syntax, or already-typed scalars; arrays = repeated flag. */
export type FlagValue = string | number | boolean | readonly string[];

/** Flags by kubelet flag name (`max-pods`; camelCase `maxPods` from commander is accepted too). */
export type KubeletFlags = Readonly<Record<string, FlagValue | undefined>>;

export function flagName(key: string): string {
  const bare = key.replace(/^--/, '');
  return bare.includes('-') ? bare : bare.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Is this kubelet flag a boolean switch (`--fail-swap-on` alone means true)? */
export function isBooleanFlag(name: string): boolean {
  const field = FLAG_TO_FIELD.get(name);
  return field !== undefined && CONFIG_FIELDS[field].kind.type === 'bool';
}

/**
 * Applies flags over a configuration (flags take precedence over the file, as in kubelet). Map flags
 * replace the whole map (so `--eviction-hard` drops the defaults it does not name), except
 * `--feature-gates`, which kubelet merges over the file's gates.
 */
export function applyFlags(
  config: KubeletConfiguration,
  flags: KubeletFlags,
): { flagOnly: Partial<KubeletFlagOnlySettings>; errors: ConfigProblem[]; warnings: ConfigProblem[] } {
  const errors: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const flagOnly: Partial<KubeletFlagOnlySettings> = {};
  const target = config as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    const name = flagName(key);
    if (name === 'node-labels') {
      try {
        flagOnly.nodeLabels = { ...flagOnly.nodeLabels, ...Object.assign({}, ...(Array.isArray(value) ? value : [value]).map((v) => parseMapStringString(String(v)))) };
      } catch (err) {
        errors.push({ field: '--node-labels', message: (err as Error).message });
      }
      continue;
    }
    if (IGNORED_UPSTREAM_FLAGS.has(name)) {
      warnings.push({ field: `--${name}`, message: 'accepted, but this kubelet does not act on it' });
      continue;
    }
    const only = (FLAG_ONLY as Record<string, Exclude<keyof KubeletFlagOnlySettings, 'nodeLabels'> | undefined>)[name];
    if (only) {
      const text = lastText(value);
      if (text !== undefined) flagOnly[only] = text;
      continue;
    }
    const field = FLAG_TO_FIELD.get(name);
    if (!field) {
      errors.push({ field: `--${name}`, message: 'unknown flag' });
      continue;
    }
    const kind = CONFIG_FIELDS[field].kind;
    try {
      const parsed = parseFlagValue(kind, value);
      target[field] = kind.type === 'boolMap' ? { ...config.featureGates, ...(parsed as Record<string, boolean>) } : parsed;
    } catch (err) {
      errors.push({ field: `${field} (--${name})`, message: (err as Error).message });
    }
  }
  return { flagOnly, errors, warnings };
}

function lastText(value: FlagValue): string | undefined {
  if (Array.isArray(value)) return value.at(-1);
  return String(value);
}

function parseFlagValue(kind: FieldKind, value: FlagValue): unknown {
  const values: readonly (string | number | boolean)[] = Array.isArray(value) ? value : [value as string | number | boolean];
  const last = values.at(-1);
  if (last === undefined) throw new Error('no value');
  switch (kind.type) {
    case 'duration':
      return parseGoDuration(String(last));
    case 'int':
      return typeof last === 'number' ? checkedInt(last, kind.min, kind.max) : parseGoInt(String(last), kind.min, kind.max);
    case 'nullableInt':
      return typeof last === 'number' ? checkedInt(last) : parseGoInt(String(last));
    case 'float':
      return typeof last === 'number' ? last : parseGoFloat(String(last));
    case 'bool':
      return typeof last === 'boolean' ? last : parseGoBool(String(last));
    case 'string':
      return String(last);
    case 'enum': {
      const text = String(last);
      if (!kind.values.includes(text)) {
        throw new Error(`unsupported value ${JSON.stringify(text)}: must be one of ${kind.values.map((v) => JSON.stringify(v)).join(', ')}`);
      }
      return text;
    }
    case 'stringMap': {
      // Repeating a map flag accumulates (cliflag maps only reset on their first Set).
      const parse = kind.flagSyntax === 'langle' ? parseLangleSeparated : parseMapStringString;
      return Object.assign({}, ...values.map((v) => parse(String(v)))) as Record<string, string>;
    }
    case 'boolMap':
      return Object.assign({}, ...values.map((v) => parseMapStringBool(String(v)))) as Record<string, boolean>;
    case 'stringList':
      return values.flatMap((v) => parseStringList(String(v)));
    case 'taints':
    case 'crashLoopBackOff':
      throw new Error('cannot be set by a flag');
  }
}

function checkedInt(value: number, min = -2147483648, max = 2147483647): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`invalid integer ${value}`);
  return value;
}

/**
 * Splits kubelet-style arguments (`--max-pods=50`, `--kube-reserved cpu=1`, `--fail-swap-on`) into
 * KubeletFlags; repeated flags become arrays. Non-flag arguments are returned as `positional`.
 */
export function parseKubeletArgs(argv: readonly string[]): {
  flags: Record<string, FlagValue>;
  positional: string[];
  errors: ConfigProblem[];
} {
  const flags: Record<string, FlagValue> = {};
  const positional: string[] = [];
  const errors: ConfigProblem[] = [];
  const add = (name: string, value: string | boolean): void => {
    const previous = flags[name];
    if (previous === undefined) flags[name] = value;
    else flags[name] = [...(Array.isArray(previous) ? previous : [String(previous)]), String(value)];
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    // pflag accepts `--name` and, for one-letter flags such as kubelet's `-v`, `-v`.
    const dashes = arg.startsWith('--') ? 2 : /^-[a-zA-Z](=|$)/.test(arg) ? 1 : 0;
    if (dashes === 0 || arg === '--') {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(dashes, eq) : arg.slice(dashes);
    if (eq >= 0) {
      add(name, arg.slice(eq + 1));
    } else if (isBooleanFlag(name)) {
      add(name, true);
    } else if (i + 1 < argv.length) {
      add(name, argv[++i] as string);
    } else {
      errors.push({ field: `--${name}`, message: 'flag needs an argument' });
    }
  }
  return { flags, positional, errors };
}

/** Every kubelet flag this configuration understands, for CLI help and registration. */
export function kubeletFlagNames(): string[] {
  return [...FLAG_TO_FIELD.keys(), ...Object.keys(FLAG_ONLY), 'node-labels'].sort();
}
