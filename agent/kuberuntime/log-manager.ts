import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Clock, TimerHandle } from '../clock/clock.js';
import type { CriClient } from '../runtime/cri-client.js';
import { planRotation, rotatedName } from './log-rotation.js';

/**
 * The kubelet's container log manager: every containerLogMonitorInterval each running container's log
 * is checked; one over containerLogMaxSize is renamed, the runtime told to reopen it (ReopenContainerLog),
 * older rotations compressed and the excess over containerLogMaxFiles removed.
 */
export class ContainerLogManager {
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(
    private readonly cri: CriClient,
    private readonly clock: Clock,
    private readonly maxSizeBytes: bigint,
    private readonly maxFiles: number,
    private readonly intervalMs: number,
    private readonly log: (msg: string) => void = () => undefined,
  ) {}

  start(): void {
    if (this.maxFiles < 2 || this.maxSizeBytes <= 0n) return; // rotation disabled
    this.timer = this.clock.setInterval(() => void this.rotateAll(), this.intervalMs);
  }

  stop(): void {
    this.timer?.cancel();
  }

  /** One pass over the running containers. */
  async rotateAll(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const { containers } = await this.cri.listContainers({ filter: { state: { state: 'CONTAINER_RUNNING' } } });
      for (const c of containers) {
        try {
          const { status } = await this.cri.containerStatus({ containerId: c.id });
          if (status?.logPath) await this.rotateIfNeeded(c.id, status.logPath);
        } catch (e) {
          this.log(`log rotation of container ${c.id.slice(0, 12)}: ${(e as Error).message}`);
        }
      }
    } catch (e) {
      this.log(`log rotation: ${(e as Error).message}`);
    } finally {
      this.running = false;
    }
  }

  async rotateIfNeeded(containerId: string, logPath: string): Promise<boolean> {
    let size: bigint;
    try {
      size = BigInt((await stat(logPath)).size);
    } catch {
      return false;
    }
    if (size < this.maxSizeBytes) return false;
    const dir = dirname(logPath);
    const siblings = (await readdir(dir)).map((f) => join(dir, f)).filter((f) => basename(f).startsWith(`${basename(logPath)}.`));
    const plan = planRotation(logPath, siblings, this.maxFiles);
    for (const f of plan.remove) await rm(f, { force: true });
    for (const f of plan.compress) {
      const tmp = `${f}.tmp`;
      await pipeline(createReadStream(f), createGzip(), createWriteStream(tmp));
      await rename(tmp, `${f}.gz`);
      await rm(f, { force: true });
    }
    const target = rotatedName(logPath, this.clock.now());
    await rename(logPath, target);
    try {
      await this.cri.reopenContainerLog({ containerId });
    } catch (e) {
      // The runtime keeps writing to the renamed file; put it back so nothing is lost.
      await rename(target, logPath).catch(() => undefined);
      throw e;
    }
    return true;
  }
}
