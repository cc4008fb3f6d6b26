/**
 * What an exec or attach session does once its transport is set up, the same over WebSocket channels
 * and SPDY streams: hands the runtime the output streams (one merged stream with \r\n line ends under
 * a TTY), stdin and an abort signal, waits for the outcome, journals the session and returns it with
 * the Status the transport reports on its error stream.
 */
import type { Journal } from '../journal/journal.js';
import type { TerminalSize } from './spdy/remotecommand-protocol.js';
import type { StdinQueue } from './stdin-queue.js';
import type { AttachRunner, AttachStreamRequest, ExecRunner, ExecStreamRequest, ExecStreams } from './streaming-server.js';
import { outcomeStatus, type ExecOutcome, type Status } from './streaming-protocol.js';

export type RemoteCommand = { readonly kind: 'exec'; readonly request: ExecStreamRequest } | { readonly kind: 'attach'; readonly request: AttachStreamRequest };

export interface RemoteCommandTransport {
  /** The negotiated protocol, as the journal names it. */
  readonly protocol: string;
  stdout(bytes: Buffer): void;
  stderr(bytes: Buffer): void;
  readonly stdin?: StdinQueue;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
  /** Terminal sizes the client sent on its resize stream so far. */
  readonly terminalSizes: readonly TerminalSize[];
}

export interface RemoteCommandRunners {
  readonly run: ExecRunner;
  readonly attach?: AttachRunner;
  readonly journal?: Journal;
}

/** How a session ended: the runtime's outcome and the Status reporting it. */
export interface RemoteCommandResult {
  readonly outcome: ExecOutcome;
  readonly status: Status;
}

export async function runRemoteCommand(command: RemoteCommand, transport: RemoteCommandTransport, runners: RemoteCommandRunners): Promise<RemoteCommandResult> {
  const { request } = command;
  const out = (write: (bytes: Buffer) => void) => (text: string) => write(Buffer.from(request.tty ? text.replace(/\r?\n/g, '\r\n') : text));
  const none = (): void => undefined;
  const stdout = request.stdout ? out((b) => transport.stdout(b)) : none;
  const streams: ExecStreams = {
    stdout,
    stderr: request.tty ? stdout : request.stderr ? out((b) => transport.stderr(b)) : none,
    ...(transport.stdin ? { stdin: transport.stdin } : {}),
    signal: transport.signal,
  };
  let outcome: ExecOutcome;
  try {
    if (command.kind === 'exec') outcome = await runners.run(command.request, streams);
    else if (runners.attach) outcome = await runners.attach(command.request, streams);
    else outcome = { error: 'the streaming server serves no attach' };
  } catch (err) {
    outcome = { error: (err as Error).message };
  }
  const cmd = command.kind === 'exec' ? command.request.cmd : [];
  const sizes = transport.terminalSizes;
  runners.journal?.append({
    source: 'cri',
    kind: 'event',
    name: command.kind === 'exec' ? 'ExecSessionEnded' : 'AttachSessionEnded',
    subject: { containerId: request.containerId },
    request: { ...(command.kind === 'exec' ? { cmd } : {}), protocol: transport.protocol, ...(sizes.length > 0 ? { terminalSizes: [...sizes] } : {}) },
    response: outcome,
  });
  return { outcome, status: command.kind === 'exec' ? outcomeStatus(cmd, outcome) : outcomeStatus(cmd, outcome, 'error attaching to container') };
}
