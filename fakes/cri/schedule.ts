/**
 * Values that change over a container's lifetime, written as text in env knobs:
 *   "200 for 30s then 500"            (HTTP status)
 *   "10Mi for 1m then 300Mi"          (memory working set)
 *   "SERVING for 5s then NOT_SERVING" (gRPC health)
 * A schedule is a list of (value, duration) phases; the last phase lasts forever. Elapsed time is
 * measured from the container's start on the injected clock.
 */
export interface Phase<T> {
  readonly value: T;
  /** Milliseconds this phase lasts; null for the final phase. */
  readonly forMs: number | null;
}

export type Schedule<T> = readonly Phase<T>[];

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Go-style durations: "500ms", "30s", "1m30s", "2h"; a bare number means seconds. */
export function parseDuration(text: string, field = 'duration'): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1_000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (t.length === 0 || consumed !== t.length) {
    throw new Error(`${field}: "${text}" is not a duration (examples: 500ms, 30s, 1m30s, 2h)`);
  }
  return total;
}

const BYTE_SUFFIXES: Record<string, number> = {
  '': 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** Kubernetes-style byte quantities: "512", "64Ki", "10Mi", "1.5Gi", "100M". */
export function parseBytes(text: string, field = 'bytes'): number {
  const m = /^(\d+(?:\.\d+)?)([kKMGT]i?)?$/.exec(text.trim());
  const suffix = m?.[2] ?? '';
  if (!m || !(suffix in BYTE_SUFFIXES)) {
    throw new Error(`${field}: "${text}" is not a byte quantity (examples: 512, 64Ki, 10Mi, 1Gi)`);
  }
  return Math.round(Number(m[1]) * BYTE_SUFFIXES[suffix]!);
}

export function parseSchedule<T>(text: string, parseValue: (v: string) => T, field = 'schedule'): Schedule<T> {
  const parts = text.split(/\bthen\b/).map((p) => p.trim());
  const phases: Phase<T>[] = [];
  parts.forEach((part, i) => {
    const m = /^(.*?)(?:\s+for\s+(\S+))?$/.exec(part);
    const valueText = m?.[1]?.trim() ?? '';
    if (valueText === '') throw new Error(`${field}: phase ${i + 1} of "${text}" has no value`);
    let value: T;
    try {
      value = parseValue(valueText);
    } catch (err) {
      throw new Error(`${field}: phase ${i + 1} of "${text}": ${(err as Error).message}`);
    }
    const last = i === parts.length - 1;
    const forText = m?.[2];
    if (!last && forText === undefined) {
      throw new Error(`${field}: phase ${i + 1} of "${text}" needs "for <duration>" before "then"`);
    }
    phases.push({ value, forMs: forText === undefined ? null : parseDuration(forText, field) });
  });
  return phases;
}

/** The value in force `elapsedMs` after the schedule began. */
export function valueAt<T>(schedule: Schedule<T>, elapsedMs: number): T {
  let start = 0;
  for (const phase of schedule) {
    if (phase.forMs === null || elapsedMs < start + phase.forMs) return phase.value;
    start += phase.forMs;
  }
  return schedule[schedule.length - 1]!.value;
}

/** Milliseconds from the start at which the value next changes after `elapsedMs`, or null when it never does. */
export function nextChangeAt<T>(schedule: Schedule<T>, elapsedMs: number): number | null {
  let start = 0;
  for (const phase of schedule) {
    if (phase.forMs === null) return null;
    start += phase.forMs;
    if (start > elapsedMs) return start;
  }
  return null;
}

export function constant<T>(value: T): Schedule<T> {
  return [{ value, forMs: null }];
}

/**
 * Per-path HTTP schedules: "/healthz=200 for 30s then 500; /ready=503 for 10s then 200".
 * A path "*" (or an entry without "path=") sets the default for every other path.
 */
export function parseHttpSchedules(text: string, field = 'FAKE_HTTP_SCHEDULE'): Map<string, Schedule<number>> {
  const result = new Map<string, Schedule<number>>();
  for (const entry of text.split(';').map((e) => e.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    const path = eq >= 0 ? entry.slice(0, eq).trim() : '*';
    const spec = eq >= 0 ? entry.slice(eq + 1) : entry;
    if (path !== '*' && !path.startsWith('/')) throw new Error(`${field}: path "${path}" must start with "/"`);
    result.set(path, parseSchedule(spec, parseHttpStatus, `${field} ${path}`));
  }
  return result;
}

function parseHttpStatus(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 100 || n > 599) throw new Error(`"${v}" is not an HTTP status (100-599)`);
  return n;
}
