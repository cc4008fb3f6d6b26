/**
 * Package entry of kubelet-harness: the kubelet decision logic as a pure library, the clock, the
 * journal, and the programmatic starts of the fakes and the agent.
 */
export type { Clock, TimerHandle } from './clock/index.js';
export { RealClock, VirtualClock, realClock } from './clock/index.js';
export { Journal, match, type JournalEntry, type JournalInput, type JournalSource } from '../fakes/journal/journal.js';
export { assertHappensBefore, happenedBefore, step, OrderViolation } from '../fakes/journal/happens-before.js';
