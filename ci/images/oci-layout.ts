/**
 * OCI image layouts (oci-layout, index.json, blobs/sha256/...) built from in-memory layers. Nothing time- or
 * host-dependent goes into the config or manifest, so the manifest digest depends only on the layer contents.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { writeTar, type TarEntry } from './tar.js';

export const MEDIA_TYPES = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** The runtime part of an OCI image config. */
export interface ImageRunConfig {
  readonly Entrypoint?: readonly string[];
  readonly Cmd?: readonly string[];
  readonly Env?: readonly string[];
  readonly WorkingDir?: string;
  readonly User?: string;
}

export interface ImageDefinition {
  /** Stored as org.opencontainers.image.ref.name in index.json, e.g. "3.10". */
  readonly tag: string;
  readonly layers: readonly (readonly TarEntry[])[];
  readonly config: ImageRunConfig;
}

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

export interface BuiltImage {
  readonly manifest: Descriptor;
  /** Every blob of the image (config, layers, manifest) keyed by digest. */
  readonly blobs: ReadonlyMap<string, Buffer>;
}

export function sha256Digest(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Go-style architecture name of this machine, as OCI configs spell it. */
export function ociArchitecture(arch: string = process.arch): string {
  const names: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  const name = names[arch];
  if (name === undefined) throw new Error(`unsupported architecture "${arch}" for test images`);
  return name;
}

/** Builds all blobs in memory. Same definition, same digests. */
export function buildImage(definition: ImageDefinition): BuiltImage {
  const blobs = new Map<string, Buffer>();
  const add = (mediaType: string, data: Buffer): Descriptor => {
    const digest = sha256Digest(data);
    blobs.set(digest, data);
    return { mediaType, digest, size: data.byteLength };
  };

  const diffIds: string[] = [];
  const layers: Descriptor[] = [];
  for (const entries of definition.layers) {
    const tar = writeTar(entries);
    diffIds.push(sha256Digest(tar));
    // zlib writes mtime 0 and a fixed OS byte in the gzip header; a fixed level keeps the output stable.
    layers.push(add(MEDIA_TYPES.layerGzip, gzipSync(tar, { level: 9 })));
  }
  const config = add(
    MEDIA_TYPES.config,
    Buffer.from(
      JSON.stringify({
        architecture: ociArchitecture(),
        os: 'linux',
        config: definition.config,
        rootfs: { type: 'layers', diff_ids: diffIds },
      }),
    ),
  );
  const manifest = add(
    MEDIA_TYPES.manifest,
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.manifest, config, layers })),
  );
  return { manifest, blobs };
}

/** Writes an image as an OCI layout directory (which must be new or empty). */
export async function writeOciLayout(dir: string, definition: ImageDefinition, image: BuiltImage = buildImage(definition)): Promise<Descriptor> {
  const blobDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });
  for (const [digest, data] of image.blobs) await writeFile(join(blobDir, digest.slice('sha256:'.length)), data);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.index,
    manifests: [{ ...image.manifest, annotations: { 'org.opencontainers.image.ref.name': definition.tag } }],
  };
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));
  return image.manifest;
}

export interface LayoutImage {
  readonly tag: string;
  readonly manifest: Descriptor;
}

/** The tagged manifests an OCI layout lists in its index.json. */
export async function readLayoutIndex(dir: string): Promise<LayoutImage[]> {
  const index = parseJsonObject(await readFile(join(dir, 'index.json'), 'utf8'), `${dir}/index.json`);
  const manifests = index['manifests'];
  if (!Array.isArray(manifests)) throw new Error(`${dir}/index.json: "manifests" must be an array`);
  return manifests.map((raw: unknown, i): LayoutImage => {
    const item = raw as Record<string, unknown> | null;
    const annotations = (item?.['annotations'] ?? {}) as Record<string, unknown>;
    const tag = annotations['org.opencontainers.image.ref.name'];
    if (typeof tag !== 'string') throw new Error(`${dir}/index.json: manifests[${i}] has no org.opencontainers.image.ref.name`);
    return { tag, manifest: parseDescriptor(item, `${dir}/index.json manifests[${i}]`) };
  });
}

export async function readLayoutBlob(dir: string, digest: string): Promise<Buffer> {
  const match = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!match) throw new Error(`unsupported digest "${digest}"`);
  const data = await readFile(join(dir, 'blobs', 'sha256', match[1] as string));
  if (sha256Digest(data) !== digest) throw new Error(`blob ${digest} in ${dir} does not match its digest`);
  return data;
}

/** The config and layer descriptors an image manifest refers to. */
export function manifestReferences(manifest: Buffer, where: string): Descriptor[] {
  const parsed = parseJsonObject(manifest.toString('utf8'), where);
  const layers = parsed['layers'];
  if (!Array.isArray(layers)) throw new Error(`${where}: "layers" must be an array`);
  return [parseDescriptor(parsed['config'], `${where} config`), ...layers.map((layer: unknown, i) => parseDescriptor(layer, `${where} layers[${i}]`))];
}

function parseDescriptor(raw: unknown, where: string): Descriptor {
  const item = raw as Record<string, unknown> | null;
  const mediaType = item?.['mediaType'];
  const digest = item?.['digest'];
  const size = item?.['size'];
  if (typeof mediaType !== 'string') throw new Error(`${where}: "mediaType" must be a string`);
  if (typeof digest !== 'string') throw new Error(`${where}: "digest" must be a string`);
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) throw new Error(`${where}: "size" must be a non-negative integer`);
  return { mediaType, digest, size };
}

function parseJsonObject(text: string, where: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${where}: not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where}: expected a JSON object`);
  return value as Record<string, unknown>;
}
