// Image references: `oci:DIR[:TAG]` (an OCI image layout) and `docker-archive:FILE[:REF]` (docker save).
import { resolve } from 'node:path';
import { SalvoError } from '../errors.js';

export type ImageRef =
  | { transport: 'oci'; path: string; tag: string | null; text: string }
  | { transport: 'docker-archive'; path: string; tag: string | null; text: string };

/** Parses a reference; the tag is what follows the last ':' after the last '/' (paths may hold ':' before it). */
export function parseImageRef(text: string): ImageRef {
  const colon = text.indexOf(':');
  const transport = colon < 0 ? '' : text.slice(0, colon);
  if (transport !== 'oci' && transport !== 'docker-archive') {
    throw new SalvoError('ERR_IMAGE_NOT_FOUND', `image ${JSON.stringify(text)}: a reference is oci:DIR[:TAG] or docker-archive:FILE[:REF]`, {
      details: { image: text },
    });
  }
  const rest = text.slice(colon + 1);
  const slash = rest.lastIndexOf('/');
  // docker-archive's REF is itself a name:tag (library/busybox:1.36): it starts at the first ':'.
  const tagColon = transport === 'oci' ? rest.lastIndexOf(':') : rest.indexOf(':');
  const split = tagColon > 0 && (transport === 'docker-archive' || tagColon > slash);
  const path = split ? rest.slice(0, tagColon) : rest;
  const tag = split ? rest.slice(tagColon + 1) : null;
  if (path === '' || tag === '') {
    throw new SalvoError('ERR_IMAGE_NOT_FOUND', `image ${text}: the reference names no ${path === '' ? 'path' : 'tag'}`, {
      details: { image: text },
    });
  }
  return { transport, path: resolve(path), tag, text };
}
