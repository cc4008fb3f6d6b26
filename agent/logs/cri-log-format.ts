/**
 * The CRI container log format, one entry per line (what containerd and the fake CRI write):
 *   <RFC3339Nano timestamp> <stdout|stderr> <tag>[:<more tags>] <message>
 * A tag of P marks a partial entry (the line continues in the next entry); F ends the line. Pure:
 * bytes or text in, fields out. Upstream: kuberuntime/logs parseCRILog and parseDockerJSONLog.
 */

export type LogStream = 'stdout' | 'stderr';

/** One entry of a log file, as a reader of the file sees it. */
export interface LogMessage {
  /** The timestamp as written. */
  readonly time: string;
  /** Nanoseconds since the Unix epoch. */
  readonly ns: bigint;
  readonly stream: LogStream;
  /** The message bytes; a full (F) entry read from a file keeps its end-of-line, a partial (P) one does not. */
  readonly log: Buffer;
}

const SPACE = 0x20;
const EOL = 0x0a;

/**
 * Parses one CRI log line (the bytes of a file line, end-of-line included or not), or says why not.
 * Tags after the first (`F:x`) are ignored, as upstream does for forward compatibility.
 */
export function parseCriLog(line: Buffer): LogMessage | string {
  const t = line.indexOf(SPACE);
  if (t < 0) return 'timestamp is not found';
  const time = line.subarray(0, t).toString('latin1');
  const ns = parseRfc3339Nano(time);
  if (ns === null) return `unexpected timestamp format ${JSON.stringify(time)}`;
  const s = line.indexOf(SPACE, t + 1);
  if (s < 0) return 'stream type is not found';
  const stream = line.subarray(t + 1, s).toString('latin1');
  if (stream !== 'stdout' && stream !== 'stderr') return `unexpected stream type ${JSON.stringify(stream)}`;
  const g = line.indexOf(SPACE, s + 1);
  if (g < 0) return 'log tag is not found';
  const partial = line.subarray(s + 1, g).toString('latin1').split(':')[0] === 'P';
  let log = line.subarray(g + 1);
  // A partial entry's end-of-line belongs to the file, not to the message.
  if (partial && log.length > 0 && log[log.length - 1] === EOL) log = log.subarray(0, log.length - 1);
  return { time, ns, stream, log };
}

/** Docker's json-file format ({"log","stream","time"}), which upstream also accepts. */
export function parseDockerJsonLog(line: Buffer): LogMessage | string {
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch (err) {
    return `failed to unmarshal log: ${(err as Error).message}`;
  }
  if (typeof value !== 'object' || value === null) return 'failed to unmarshal log: not an object';
  const { log, stream, time } = value as Record<string, unknown>;
  if (stream !== 'stdout' && stream !== 'stderr') return `unexpected stream type ${JSON.stringify(stream)}`;
  const ns = typeof time === 'string' ? parseRfc3339Nano(time) : null;
  if (ns === null) return `unexpected timestamp format ${JSON.stringify(time)}`;
  return { time: time as string, ns, stream, log: Buffer.from(typeof log === 'string' ? log : '', 'utf8') };
}

export type LogParser = (line: Buffer) => LogMessage | string;

/** The parser for a file, chosen by its first line (upstream getParseFunc); a string says why none fits. */
export function parserFor(firstLine: Buffer): LogParser | string {
  for (const parse of [parseCriLog, parseDockerJsonLog]) if (typeof parse(firstLine) !== 'string') return parse;
  return `unsupported log format: ${JSON.stringify(firstLine.toString('utf8'))}`;
}

/**
 * The fields of one CRI log line given as text without its end-of-line (tests and tools).
 * @example parseCriLogLine('2026-01-01T00:00:00Z stdout F hi') // { time: '2026-01-01T00:00:00Z', stream: 'stdout', tag: 'F', message: 'hi' }
 */
export function parseCriLogLine(line: string): { time: string; stream: LogStream; tag: 'F' | 'P'; message: string } | null {
  const parsed = parseCriLog(Buffer.from(line, 'utf8'));
  if (typeof parsed === 'string') return null;
  const tag = line.split(' ', 3)[2]?.split(':')[0] === 'P' ? 'P' : 'F';
  return { time: parsed.time, stream: parsed.stream, tag, message: parsed.log.toString('utf8') };
}

const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/**
 * Nanoseconds since the epoch of an RFC 3339 timestamp with optional fractional seconds (Go's
 * RFC3339NanoLenient as kubelet reads log files, and RFC3339 as in sinceTime), or null.
 */
export function parseRfc3339Nano(text: string): bigint | null {
  const m = RFC3339.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac = '', zone = 'Z'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(ms) || Number(mo) > 12 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return null;
  let offsetMin = 0;
  if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    offsetMin = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  }
  return BigInt(ms - offsetMin * 60_000) * 1_000_000n + BigInt(frac.padEnd(9, '0') || '0');
}

/**
 * Go's RFC3339NanoFixed rendering of a log timestamp as written (nine fractional digits, the
 * original zone), which is how `kubectl logs --timestamps` shows it.
 * @example fixedNanoTimestamp('2026-01-01T00:00:00.12Z') // '2026-01-01T00:00:00.120000000Z'
 */
export function fixedNanoTimestamp(time: string): string {
  const m = RFC3339.exec(time);
  if (!m) return time;
  const frac = (m[7] ?? '').padEnd(9, '0');
  // Go writes a zero offset as Z whatever the input said.
  const zone = m[8] === '+00:00' || m[8] === '-00:00' ? 'Z' : (m[8] ?? 'Z');
  return `${time.slice(0, 19)}.${frac}${zone}`;
}
