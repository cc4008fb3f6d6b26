/**
 * Pushes an image from an OCI layout to a registry over the distribution HTTP API: each blob with a monolithic
 * upload (POST to open an upload, PUT the bytes with ?digest=), skipped when HEAD says it is already there, then
 * the manifest under the tag. Plain HTTP, no auth: meant for the harness's own registry on 127.0.0.1.
 */
import { manifestReferences, readLayoutBlob, readLayoutIndex, type Descriptor } from '../images/oci-layout.js';

export interface PushTarget {
  /** e.g. http://127.0.0.1:5000 */
  readonly registryUrl: string;
  /** e.g. kubelet-harness/pause */
  readonly repository: string;
  readonly tag: string;
}

export class RegistryError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Pushes the layout's manifest tagged `layoutTag` as repository:tag. Returns the manifest descriptor. */
export async function pushLayoutImage(layoutDir: string, layoutTag: string, target: PushTarget): Promise<Descriptor> {
  if (!REPOSITORY.test(target.repository)) throw new Error(`push: invalid repository name "${target.repository}"`);
  if (!TAG.test(target.tag)) throw new Error(`push: invalid tag "${target.tag}"`);
  const entry = (await readLayoutIndex(layoutDir)).find((image) => image.tag === layoutTag);
  if (entry === undefined) throw new Error(`push: ${layoutDir} has no image tagged "${layoutTag}"`);
  const manifest = await readLayoutBlob(layoutDir, entry.manifest.digest);
  for (const blob of manifestReferences(manifest, `${layoutDir} manifest ${entry.manifest.digest}`)) {
    await pushBlob(target, blob.digest, () => readLayoutBlob(layoutDir, blob.digest));
  }
  const url = `${base(target)}/manifests/${target.tag}`;
  const response = await fetch(url, { method: 'PUT', headers: { 'content-type': entry.manifest.mediaType }, body: manifest });
  await expectStatus(response, [201], `PUT ${url}`);
  const stored = response.headers.get('docker-content-digest');
  if (stored !== null && stored !== entry.manifest.digest) {
    throw new Error(`push: registry stored manifest ${stored}, expected ${entry.manifest.digest}`);
  }
  return entry.manifest;
}

async function pushBlob(target: PushTarget, digest: string, read: () => Promise<Buffer>): Promise<void> {
  const blobUrl = `${base(target)}/blobs/${digest}`;
  const head = await fetch(blobUrl, { method: 'HEAD' });
  if (head.status === 200) return;
  await expectStatus(head, [404], `HEAD ${blobUrl}`);

  const startUrl = `${base(target)}/blobs/uploads/`;
  const start = await fetch(startUrl, { method: 'POST' });
  await expectStatus(start, [202], `POST ${startUrl}`);
  const location = start.headers.get('location');
  if (location === null) throw new Error(`push: POST ${startUrl} returned no Location header`);
  const upload = new URL(location, target.registryUrl);
  upload.searchParams.set('digest', digest);
  const data = await read();
  const put = await fetch(upload, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.byteLength) },
    body: data,
  });
  await expectStatus(put, [201], `PUT blob ${digest}`);
}

function base(target: PushTarget): string {
  return `${target.registryUrl.replace(/\/+$/, '')}/v2/${target.repository}`;
}

async function expectStatus(response: Response, expected: readonly number[], what: string): Promise<void> {
  if (expected.includes(response.status)) {
    // Drain bodies we do not read so the connection is reused.
    await response.arrayBuffer().catch(() => undefined);
    return;
  }
  const body = await response.text().catch(() => '');
  throw new RegistryError(`push: ${what} returned HTTP ${response.status}${body ? `: ${body.trim().slice(0, 300)}` : ''}`, response.status);
}
