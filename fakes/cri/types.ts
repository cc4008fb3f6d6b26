/**
 * The CRI message shapes the fake reads and writes, as @grpc/proto-loader presents them with
 * `keepCase: true, longs: String, enums: String, defaults: true` (see proto.ts). Only the fields the fake
 * uses are spelled out; names and nesting follow proto/cri/runtime/v1/api.proto exactly.
 *
 * int64/uint64 arrive as decimal strings (nanosecond timestamps do not fit a double) and may be sent
 * back as strings or numbers; enums arrive as their names and may be sent back as names.
 */
export type Int64 = string | number;
export type StringMap = Record<string, string>;

export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}

export interface PortMapping {
  protocol: 'TCP' | 'UDP' | 'SCTP' | number;
  container_port: number;
  host_port: number;
  host_ip: string;
}

export interface DnsConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

export interface LinuxContainerResources {
  cpu_period?: Int64;
  cpu_quota?: Int64;
  cpu_shares?: Int64;
  memory_limit_in_bytes?: Int64;
  oom_score_adj?: Int64;
  cpuset_cpus?: string;
  cpuset_mems?: string;
  hugepage_limits?: { page_size: string; limit: Int64 }[];
  unified?: StringMap;
  memory_swap_limit_in_bytes?: Int64;
}

export interface PodSandboxConfig {
  metadata: PodSandboxMetadata | null;
  hostname: string;
  log_directory: string;
  dns_config: DnsConfig | null;
  port_mappings: PortMapping[];
  labels: StringMap;
  annotations: StringMap;
  linux: { cgroup_parent?: string; resources?: LinuxContainerResources | null; overhead?: LinuxContainerResources | null } | null;
}

export interface ImageSpec {
  image: string;
  annotations?: StringMap;
  user_specified_image?: string;
  runtime_handler?: string;
  image_ref?: string;
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface Mount {
  container_path: string;
  host_path: string;
  readonly: boolean;
  selinux_relabel?: boolean;
  propagation?: string | number;
}

export interface ContainerMetadata {
  name: string;
  attempt: number;
}

export interface ContainerConfig {
  metadata: ContainerMetadata | null;
  image: ImageSpec | null;
  command: string[];
  args: string[];
  working_dir: string;
  envs: KeyValue[];
  mounts: Mount[];
  labels: StringMap;
  annotations: StringMap;
  log_path: string;
  stdin: boolean;
  stdin_once: boolean;
  tty: boolean;
  linux: { resources?: LinuxContainerResources | null } | null;
  stop_signal?: string | number;
}

export type ContainerStateName = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';
export type SandboxStateName = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

export interface PodSandboxFilter {
  id?: string;
  state?: { state: SandboxStateName | number } | null;
  label_selector?: StringMap;
}

export interface ContainerFilter {
  id?: string;
  state?: { state: ContainerStateName | number } | null;
  pod_sandbox_id?: string;
  label_selector?: StringMap;
}

export interface StatsFilter {
  id?: string;
  pod_sandbox_id?: string;
  label_selector?: StringMap;
}

export interface UInt64Value {
  value: Int64;
}
