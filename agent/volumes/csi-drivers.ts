import type { Clock } from '../clock/clock.js';
import { createCsiClient, type CsiClient } from './csi-client.js';

/** A CSI driver registered with this kubelet (kubelet learns these from the plugin watcher). */
export interface CsiDriverRegistration {
  name: string;
  /** `unix:///path/csi.sock` */
  endpoint: string;
  /** CSIDriver.spec.podInfoOnMount: pass pod name/namespace/uid/service account in volume_context (default true). */
  podInfoOnMount?: boolean;
  /** Per-call deadline (default the CSI client's 30 s). */
  timeoutMs?: number;
}

export interface CsiDriverHandle {
  registration: CsiDriverRegistration;
  client: CsiClient;
  /** NodeGetCapabilities, asked once per driver. */
  nodeCapabilities(): Promise<ReadonlySet<string>>;
}

/** The registered CSI drivers, each with one client and cached node capabilities. */
export class CsiDrivers {
  private readonly handles = new Map<string, CsiDriverHandle>();
  private readonly clock: Clock | undefined;

  constructor(registrations: readonly CsiDriverRegistration[] = [], clock?: Clock) {
    this.clock = clock;
    for (const r of registrations) this.register(r);
  }

  register(registration: CsiDriverRegistration): void {
    this.handles.get(registration.name)?.client.close();
    const client = createCsiClient({ endpoint: registration.endpoint, timeoutMs: registration.timeoutMs, clock: this.clock });
    let caps: Promise<ReadonlySet<string>> | undefined;
    this.handles.set(registration.name, {
      registration,
      client,
      nodeCapabilities: () => {
        caps ??= client.node.nodeGetCapabilities({}).then(
          (res) => new Set(res.capabilities.map((c) => c.rpc?.type ?? 'UNKNOWN')),
          (err: unknown) => {
            caps = undefined; // ask again next time
            throw err;
          },
        );
        return caps;
      },
    });
  }

  /** The driver, or an error worded like kubelet's when it is not registered. */
  get(name: string): CsiDriverHandle {
    const handle = this.handles.get(name);
    if (!handle) throw new Error(`driver name ${name} not found in the list of registered CSI drivers`);
    return handle;
  }

  names(): string[] {
    return [...this.handles.keys()];
  }

  close(): void {
    for (const h of this.handles.values()) h.client.close();
    this.handles.clear();
  }
}
