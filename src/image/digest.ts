// Blob digests: every blob is checked against its descriptor (sha256 and size) before it is used.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SalvoError } from '../errors.js';

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string };
}

const SHA256 = /^sha256:([a-f0-9]{64})$/;

/** The blob file a digest names in a layout; refuses anything but sha256 (the hex also keeps the path inside blobs/). */
export function blobPath(layout: string, digest: string, image: string): string {
  const match = SHA256.exec(digest);
  if (match === null) {
    throw new SalvoError('ERR_IMAGE_LAYOUT', `image ${image}: blob digest ${JSON.stringify(digest)} is not sha256:<64 hex>`, {
      details: { image, blob: digest },
    });
  }
  return join(layout, 'blobs', 'sha256', match[1] as string);
}

/** sha256 of a file, streamed. */
export async function sha256File(file: string): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

/** Throws ERR_IMAGE_DIGEST unless the file's sha256 (and size, when known) are the descriptor's. */
export async function verifyBlobFile(file: string, expected: { digest: string; size?: number }, image: string): Promise<void> {
  let actual;
  try {
    actual = await sha256File(file);
  } catch (error) {
    throw missingBlob(error, expected.digest, image);
  }
  if (actual.digest !== expected.digest || (expected.size !== undefined && actual.size !== expected.size)) {
    throw new SalvoError(
      'ERR_IMAGE_DIGEST',
      `image ${image}: blob ${expected.digest} does not match its descriptor (it has ${actual.digest}, ${actual.size} bytes${expected.size === undefined ? '' : `; ${expected.size} expected`})`,
      { details: { image, blob: expected.digest } },
    );
  }
}

/** A small blob (manifest, index, config) read whole, verified, parsed. */
export async function readJsonBlob(layout: string, descriptor: Descriptor, image: string): Promise<Record<string, unknown>> {
  const file = blobPath(layout, descriptor.digest, image);
  await verifyBlobFile(file, descriptor, image);
  return parseJson(await readFile(file, 'utf8'), `blob ${descriptor.digest}`, image);
}

export function parseJson(text: string, what: string, image: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SalvoError('ERR_IMAGE_LAYOUT', `image ${image}: ${what} is not valid JSON: ${(error as Error).message}`, { details: { image } });
  }
  if (typeof value !== 'object' || value === null) {
    throw new SalvoError('ERR_IMAGE_LAYOUT', `image ${image}: ${what} is not a JSON object or array`, { details: { image } });
  }
  return value as Record<string, unknown>;
}

function missingBlob(error: unknown, digest: string, image: string): SalvoError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== 'ENOENT' && code !== 'EISDIR') throw error;
  return new SalvoError('ERR_IMAGE_LAYOUT', `image ${image}: blob ${digest} is missing from the layout`, { details: { image, blob: digest } });
}

export async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}
