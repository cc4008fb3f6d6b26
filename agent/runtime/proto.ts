/**
 * Loads the project's wire contracts (proto/cri/runtime/v1/api.proto, proto/csi/v1/csi.proto) with
 * @grpc/proto-loader. Every client, server and fake in the project loads them through here, so all of
 * them see messages in the same JavaScript shape, the one the generated types in proto/generated/
 * describe.
 *
 * Loader options, chosen deliberately (none of them changes the bytes on the wire):
 * - keepCase: false — fields are camelCase in JavaScript (`podSandboxId`), idiomatic TypeScript; the
 *   proto field names stay snake_case on the wire and in the JSON mapping.
 * - longs: String — int64/uint64 values arrive as decimal strings. CRI timestamps are nanoseconds since
 *   the epoch (~1.8e18), far beyond Number.MAX_SAFE_INTEGER (~9e15), so numbers would silently lose
 *   precision. Convert with BigInt(value) for arithmetic (see ./nanos.ts). Inputs accept number, string
 *   or Long.
 * - enums: String — enum values arrive as their names ('CONTAINER_RUNNING'), readable in logs and
 *   journals; inputs accept the name or the number.
 * - defaults: true — absent scalars read as their proto3 defaults ('' / 0 / false / []), absent message
 *   fields as null, so readers never see `undefined` for a declared field.
 * - oneofs: true — a message with a oneof also carries a virtual field naming the member that is set.
 *
 * ci/scripts/gen-proto-types.mjs generates the types with the same options; keep them in step.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { packagePath } from '../util/package-root.js';
import type { ProtoGrpcType as CriProtoGrpcType } from '../../proto/generated/cri/api.js';
import type { ProtoGrpcType as CsiProtoGrpcType } from '../../proto/generated/csi/csi.js';

export const PROTO_LOADER_OPTIONS: Readonly<protoLoader.Options> = Object.freeze({
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

export const CRI_PROTO_PATH = packagePath('proto', 'cri', 'runtime', 'v1', 'api.proto');
export const CSI_PROTO_PATH = packagePath('proto', 'csi', 'v1', 'csi.proto');

export type CriPackage = CriProtoGrpcType['runtime']['v1'];
export type CsiPackage = CsiProtoGrpcType['csi']['v1'];

let cri: CriPackage | undefined;
let csi: CsiPackage | undefined;

/** The runtime.v1 package: service constructors (RuntimeService, ImageService) and message types. */
export function loadCriProto(): CriPackage {
  if (!cri) {
    // The generated ProtoGrpcType describes what loadPackageDefinition returns for this file under
    // PROTO_LOADER_OPTIONS; the regeneration test keeps the two from drifting.
    const definition = protoLoader.loadSync(CRI_PROTO_PATH, { ...PROTO_LOADER_OPTIONS });
    cri = (grpc.loadPackageDefinition(definition) as unknown as CriProtoGrpcType).runtime.v1;
  }
  return cri;
}

/** The csi.v1 package: Identity, Controller, GroupController, SnapshotMetadata and Node services. */
export function loadCsiProto(): CsiPackage {
  if (!csi) {
    const definition = protoLoader.loadSync(CSI_PROTO_PATH, { ...PROTO_LOADER_OPTIONS });
    csi = (grpc.loadPackageDefinition(definition) as unknown as CsiProtoGrpcType).csi.v1;
  }
  return csi;
}
