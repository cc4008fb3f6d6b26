import type { Clock, TimerHandle } from '../clock/clock.js';
import type { RuntimeHealth } from '../nodestatus/node-status.js';
import type { CriClient } from '../runtime/cri-client.js';

/** How often the runtime's Status is polled (upstream updateRuntimeUp runs every 5 s). */
export const RUNTIME_STATUS_PERIOD_MS = 5_000;
/** Without a successful Status for this long the runtime counts as down (upstream runtime sync threshold). */
export const RUNTIME_DOWN_THRESHOLD_MS = 30_000;

/** Tracks the runtime's Version and its RuntimeReady/NetworkReady conditions for node status and pod sync. */
export class RuntimeHealthTracker {
  private timer: TimerHandle | undefined;
  private lastOk: number | undefined;
  private runtimeReady: RuntimeHealth['runtimeReady'];
  private networkReady: RuntimeHealth['networkReady'];
  runtimeName = '';
  runtimeVersion = '';
  lastError = '';

  constructor(
    private readonly cri: CriClient,
    private readonly clock: Clock,
  ) {}

  async start(): Promise<void> {
    await this.poll();
    this.timer = this.clock.setInterval(() => void this.poll(), RUNTIME_STATUS_PERIOD_MS);
  }

  stop(): void {
    this.timer?.cancel();
  }

  async poll(): Promise<void> {
    try {
      if (!this.runtimeName) {
        const v = await this.cri.version({ version: '0.1.0' }, { timeoutMs: 5_000 });
        this.runtimeName = v.runtimeName;
        this.runtimeVersion = v.runtimeVersion;
      }
      const s = await this.cri.status({ verbose: false }, { timeoutMs: 5_000 });
      const conds = s.status?.conditions ?? [];
      const find = (type: string) => {
        const c = conds.find((x) => x.type === type);
        return c ? { status: c.status, reason: c.reason, message: c.message } : undefined;
      };
      this.runtimeReady = find('RuntimeReady');
      this.networkReady = find('NetworkReady');
      this.lastOk = this.clock.monotonic();
      this.lastError = '';
    } catch (e) {
      this.lastError = (e as Error).message;
    }
  }

  health(): RuntimeHealth {
    const reachable = this.lastOk !== undefined && this.clock.monotonic() - this.lastOk <= RUNTIME_DOWN_THRESHOLD_MS;
    return {
      reachable,
      runtimeReady: this.runtimeReady,
      networkReady: this.networkReady,
      version: this.runtimeName ? `${this.runtimeName}://${this.runtimeVersion}` : '',
    };
  }

  /** Non-hostNetwork pods wait while the runtime network is not ready. */
  networkError(): string | undefined {
    const h = this.health();
    if (!h.reachable) return 'container runtime is down';
    if (h.networkReady && !h.networkReady.status) {
      return `network is not ready: container runtime network not ready: NetworkReady=false reason:${h.networkReady.reason} message:${h.networkReady.message}`;
    }
    return undefined;
  }
}
