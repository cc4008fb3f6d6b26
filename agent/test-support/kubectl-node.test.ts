import { describe, expect, it } from 'vitest';
import { lostToStreamCreationRace, withoutReadyFrameRace } from './kubectl-node.js';

describe('kubectl stderr in tests', () => {
  it('drops only client-go notices of a discarded frame on an unregistered stream', () => {
    const notice = 'E1127 13:01:02.123456   12345 websocket.go:296] Unknown stream id 1, discarding message\n';
    expect(withoutReadyFrameRace(`${notice}command terminated with exit code 5\n`)).toBe('command terminated with exit code 5\n');
    expect(withoutReadyFrameRace('error: unable to upgrade connection: container not found ("x")\n')).toBe('error: unable to upgrade connection: container not found ("x")\n');
  });
});

describe('which kubectl failures are run again', () => {
  const failed = (stderr: string, code = 1) => Object.assign(new Error('kubectl failed'), { code, stderr });

  it('runs an exec again only when kubectl lost its streams to the close of a session it raced', () => {
    expect(lostToStreamCreationRace(['exec', 'shell', '--', 'cat', '/tmp/who'], failed('error: closed all streams\n'))).toBe(true);
    const notice = 'E1127 13:01:02.123456   12345 websocket.go:296] Unknown stream id 1, discarding message\n';
    expect(lostToStreamCreationRace(['exec', 'shell', '--', 'true'], failed(`${notice}error: closed all streams\n`))).toBe(true);
  });

  it('leaves every other failure, other commands and other exit codes alone', () => {
    expect(lostToStreamCreationRace(['exec', 'shell', '--', 'false'], failed('command terminated with exit code 1\n'))).toBe(false);
    expect(lostToStreamCreationRace(['exec', 'shell', '--', 'true'], failed('error: closed all streams\nmore\n'))).toBe(false);
    expect(lostToStreamCreationRace(['attach', 'shell'], failed('error: closed all streams\n'))).toBe(false);
    expect(lostToStreamCreationRace(['exec', 'shell', '--', 'true'], failed('error: closed all streams\n', 2))).toBe(false);
  });
});

describe('which kubectl runs lost output to the stream-creation race', () => {
  const notice = (id: number) => `E1127 13:01:02.123456   12345 websocket.go:296] Unknown stream id ${id}, discarding message\n`;

  it('counts a run that discarded more than the ready frame, or the status stream, as lost', () => {
    expect(lostToStreamCreationRace(['exec', 'p', '--', 'cat', 'f'], { code: 0, stderr: notice(1) + notice(1) })).toBe(true);
    expect(lostToStreamCreationRace(['exec', 'p', '--', 'cat', 'f'], { code: 0, stderr: notice(3) })).toBe(true);
  });

  it('does not count the ready frame alone, nor a clean run', () => {
    expect(lostToStreamCreationRace(['exec', 'p', '--', 'cat', 'f'], { code: 0, stderr: notice(1) })).toBe(false);
    expect(lostToStreamCreationRace(['exec', 'p', '--', 'cat', 'f'], { code: 0, stderr: '' })).toBe(false);
    expect(lostToStreamCreationRace(['logs', 'p'], { code: 0, stderr: notice(3) })).toBe(false);
  });
});
