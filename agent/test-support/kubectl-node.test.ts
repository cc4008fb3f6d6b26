import { describe, expect, it } from 'vitest';
import { withoutReadyFrameRace } from './kubectl-node.js';

describe('kubectl stderr in tests', () => {
  it('drops only client-go notices of a discarded frame on an unregistered stream', () => {
    const notice = 'E1127 13:01:02.123456   12345 websocket.go:296] Unknown stream id 1, discarding message\n';
    expect(withoutReadyFrameRace(`${notice}command terminated with exit code 5\n`)).toBe('command terminated with exit code 5\n');
    expect(withoutReadyFrameRace('error: unable to upgrade connection: container not found ("x")\n')).toBe('error: unable to upgrade connection: container not found ("x")\n');
  });
});
