import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { Clock, TimerHandle } from '../clock/clock.js';
import { parseStaticPodManifest } from './manifest.js';

export interface StaticPodHandlers {
  add(pod: V1Pod): void;
  /** The manifest changed: the old pod goes, the new one (new UID) comes. */
  remove(pod: V1Pod): void;
  /** A manifest could not be used; `message` names the file and the field. */
  invalid(file: string, message: string): void;
}

/**
 * The kubelet's file config source (upstream pkg/kubelet/config/file.go): the staticPodPath
 * directory (or single file) read every fileCheckFrequency on the clock; files starting with '.' are
 * ignored; each manifest is one pod whose UID changes with its content.
 */
export class StaticPodFileSource {
  private readonly known = new Map<string, { text: string; pod: V1Pod | null }>();
  private timer: TimerHandle | undefined;
  private scanning = false;

  constructor(
    private readonly path: string,
    private readonly nodeName: string,
    private readonly clock: Clock,
    private readonly periodMs: number,
    private readonly handlers: StaticPodHandlers,
  ) {}

  async start(): Promise<void> {
    await this.scan();
    this.timer = this.clock.setInterval(() => void this.scan(), this.periodMs);
  }

  stop(): void {
    this.timer?.cancel();
  }

  pods(): V1Pod[] {
    return [...this.known.values()].flatMap((k) => (k.pod ? [k.pod] : []));
  }

  /** Reads the directory once and reports what changed since the last scan. */
  async scan(): Promise<void> {
    if (this.scanning) return;
    this.scanning = true;
    try {
      const files = await this.listFiles();
      const seen = new Set<string>();
      for (const file of files) {
        let text: string;
        try {
          text = await readFile(file, 'utf8');
        } catch {
          continue; // removed between listing and reading
        }
        seen.add(file);
        const prev = this.known.get(file);
        if (prev && prev.text === text) continue;
        const parsed = parseStaticPodManifest(text, file, this.nodeName);
        if (prev?.pod) this.handlers.remove(prev.pod);
        if ('pod' in parsed) {
          this.known.set(file, { text, pod: parsed.pod });
          this.handlers.add(parsed.pod);
        } else {
          this.known.set(file, { text, pod: null });
          this.handlers.invalid(file, parsed.error);
        }
      }
      for (const [file, entry] of [...this.known]) {
        if (seen.has(file)) continue;
        this.known.delete(file);
        if (entry.pod) this.handlers.remove(entry.pod);
      }
    } finally {
      this.scanning = false;
    }
  }

  private async listFiles(): Promise<string[]> {
    let info;
    try {
      info = await stat(this.path);
    } catch {
      return [];
    }
    if (info.isFile()) return [this.path];
    const entries = await readdir(this.path, { withFileTypes: true });
    return entries
      .filter((e) => e.isFile() && !e.name.startsWith('.'))
      .map((e) => join(this.path, e.name))
      .sort();
  }
}
