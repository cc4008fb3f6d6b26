/**
 * gRPC status codes (the numeric values are fixed by the gRPC spec) and the error the fake's runtime
 * model throws. The model stays free of any gRPC library; the server maps CriError to a gRPC status.
 */
export const Code = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type CodeName = keyof typeof Code;
export type CodeValue = (typeof Code)[CodeName];

const namesByValue = new Map<number, CodeName>(
  (Object.entries(Code) as [CodeName, number][]).map(([name, value]) => [value, name]),
);

export function codeName(code: number): string {
  return namesByValue.get(code) ?? `CODE_${code}`;
}

/** Parses "NOT_FOUND", "NotFound", "notfound" or "5" into a code. */
export function parseCode(text: string | number): CodeValue {
  if (typeof text === 'number') {
    if (namesByValue.has(text)) return text as CodeValue;
    throw new Error(`unknown gRPC status code ${text}`);
  }
  if (/^\d+$/.test(text)) return parseCode(Number(text));
  const wanted = text.replace(/[_\s-]/g, '').toUpperCase();
  for (const [name, value] of Object.entries(Code)) {
    if (name.replace(/_/g, '') === wanted) return value as CodeValue;
  }
  throw new Error(`unknown gRPC status code "${text}"`);
}

/** An error with the gRPC code the real runtime would return for the same situation. */
export class CriError extends Error {
  constructor(
    readonly code: CodeValue,
    message: string,
  ) {
    super(message);
    this.name = 'CriError';
  }
}

export const notFound = (message: string): CriError => new CriError(Code.NOT_FOUND, message);
export const invalidArgument = (message: string): CriError => new CriError(Code.INVALID_ARGUMENT, message);
/**
 * containerd wraps most state errors with fmt.Errorf and no errdefs class, so they reach the client as
 * UNKNOWN; the fake uses this wherever containerd does, to keep the codes observable by a kubelet equal.
 */
export const unknown = (message: string): CriError => new CriError(Code.UNKNOWN, message);
