export type { Clock, TimerHandle } from './clock.js';
export { sleepOn } from './clock.js';
export { RealClock, realClock } from './real-clock.js';
export { VirtualClock } from './virtual-clock.js';
