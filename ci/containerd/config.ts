/**
 * The files a private containerd needs, rendered as strings (pure functions): its config.toml (version 2,
 * containerd 1.6), certs.d hosts.toml files for the local registry and the mirrored upstream names, and the
 * CNI conflist (bridge + host-local + portmap, then any extra plugins). The loopback interface is set up by
 * containerd itself with the `loopback` plugin from the same bin_dir.
 */

export interface ContainerdPaths {
  readonly root: string;
  readonly state: string;
  /** gRPC socket; the ttrpc socket goes beside it. */
  readonly socket: string;
  readonly optDir: string;
  readonly cniBinDir: string;
  readonly cniConfDir: string;
  readonly certsDir: string;
}

export interface ContainerdConfigOptions {
  readonly paths: ContainerdPaths;
  readonly sandboxImage: string;
  /** Without CAP_SYS_RESOURCE runc cannot lower oom_score_adj; containerd must then clamp it. */
  readonly restrictOomScoreAdj: boolean;
  /** "overlayfs" normally; "native" when the root sits on a filesystem overlayfs cannot stack on. */
  readonly snapshotter?: 'overlayfs' | 'native';
}

/** TOML basic strings accept JSON's escapes, so JSON.stringify yields a valid, safely quoted TOML string. */
function str(value: string): string {
  return JSON.stringify(value);
}

export function containerdConfigToml(options: ContainerdConfigOptions): string {
  const { paths } = options;
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `# Private containerd for kubelet-harness: everything under one run directory.
version = 2
root = ${str(paths.root)}
state = ${str(paths.state)}

[grpc]
  address = ${str(paths.socket)}
  uid = 0
  gid = 0

[ttrpc]
  address = ${str(`${paths.socket}.ttrpc`)}

[debug]
  level = "info"

[metrics]
  address = ""

# The opt plugin would otherwise create /opt/containerd.
[plugins."io.containerd.internal.v1.opt"]
  path = ${str(paths.optDir)}

[${cri}]
  sandbox_image = ${str(options.sandboxImage)}
  restrict_oom_score_adj = ${options.restrictOomScoreAdj}
  tolerate_missing_hugetlb_controller = true
  disable_hugetlb_controller = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

  [${cri}.containerd]
    snapshotter = ${str(options.snapshotter ?? 'overlayfs')}
    default_runtime_name = "runc"

    [${cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [${cri}.containerd.runtimes.runc.options]
        SystemdCgroup = false

  [${cri}.cni]
    bin_dir = ${str(paths.cniBinDir)}
    conf_dir = ${str(paths.cniConfDir)}
    max_conf_num = 1

  [${cri}.registry]
    config_path = ${str(paths.certsDir)}
`;
}

/** Names containerd resolves through certs.d/<name>/hosts.toml to the local registry. */
export const MIRRORED_REGISTRIES = ['registry.k8s.io', 'docker.io', 'k8s.gcr.io', 'gcr.io', 'quay.io'] as const;

/**
 * certs.d/<host>/hosts.toml contents: the local registry itself over plain HTTP, and each mirrored name sent to
 * it (pull and resolve only). Returned as directory name → file content.
 */
export function registryHostsFiles(registryHost: string): Map<string, string> {
  const url = `http://${registryHost}`;
  const files = new Map<string, string>();
  files.set(registryHost, `server = ${str(url)}\n\n[host.${str(url)}]\n  capabilities = ["pull", "resolve", "push"]\n  skip_verify = true\n`);
  for (const name of MIRRORED_REGISTRIES) {
    files.set(name, `server = ${str(`https://${name}`)}\n\n[host.${str(url)}]\n  capabilities = ["pull", "resolve"]\n  skip_verify = true\n`);
  }
  return files;
}

export interface CniNetworkOptions {
  /** Network name (also the conflist file name). */
  readonly name: string;
  /** Linux bridge device, at most 15 characters. */
  readonly bridge: string;
  /** IPv4 subnet in CIDR form, e.g. 10.123.7.0/24. */
  readonly subnet: string;
  /** host-local's private allocation directory. */
  readonly ipamDataDir: string;
  /** Plugin configurations appended after portmap (e.g. the project's kubelet-harness-cni). */
  readonly extraPlugins?: readonly Record<string, unknown>[];
}

const INTERFACE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

export function cniConflist(options: CniNetworkOptions): string {
  if (!INTERFACE_NAME.test(options.bridge)) throw new Error(`cni: bridge name "${options.bridge}" is not a valid interface name (1-15 of [A-Za-z0-9_.-])`);
  const gateway = gatewayOf(options.subnet);
  for (const [i, plugin] of (options.extraPlugins ?? []).entries()) {
    if (typeof plugin['type'] !== 'string' || plugin['type'] === '') throw new Error(`cni: extraPlugins[${i}].type must be a non-empty string`);
  }
  const conflist = {
    cniVersion: '1.0.0',
    name: options.name,
    plugins: [
      {
        type: 'bridge',
        bridge: options.bridge,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          dataDir: options.ipamDataDir,
          ranges: [[{ subnet: options.subnet, gateway }]],
          routes: [{ dst: '0.0.0.0/0' }],
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
      ...(options.extraPlugins ?? []),
    ],
  };
  return `${JSON.stringify(conflist, null, 2)}\n`;
}

/** First host address of an IPv4 CIDR ("10.1.2.0/24" → "10.1.2.1"). */
export function gatewayOf(subnet: string): string {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(subnet);
  const octets = match?.slice(1, 5).map(Number) ?? [];
  const prefix = Number(match?.[5]);
  if (!match || octets.some((o) => o > 255) || prefix < 8 || prefix > 30) throw new Error(`cni: subnet "${subnet}" must be an IPv4 CIDR with a prefix of 8-30`);
  const [a, b, c, d] = octets as [number, number, number, number];
  const base = (((a << 24) | (b << 16) | (c << 8) | d) >>> 0) & (~0 << (32 - prefix));
  const gw = (base + 1) >>> 0;
  return [gw >>> 24, (gw >>> 16) & 255, (gw >>> 8) & 255, gw & 255].join('.');
}
