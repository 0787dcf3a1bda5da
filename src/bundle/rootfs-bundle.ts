// `salvo run --rootfs DIR`: a bundle around a user's root filesystem, with salvo's default spec.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SalvoError } from '../errors.js';
import { defaultSpec } from './default-spec.js';

export function bundleForRootfs(stateDir: string, rootfs: string): string {
  let real: string;
  try {
    real = realpathSync(rootfs);
    if (!statSync(real).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new SalvoError('ERR_BUNDLE_NOT_FOUND', `rootfs ${rootfs} does not exist or is not a directory`);
  }
  const spec = defaultSpec();
  // The rootfs is the user's own: writable, unlike the shared default one.
  spec.root = { path: real, readonly: false };
  const bundle = join(stateDir, 'bundles', `rootfs-${createHash('sha256').update(real).digest('hex').slice(0, 16)}`);
  const config = `${JSON.stringify(spec, null, 2)}\n`;
  mkdirSync(bundle, { recursive: true, mode: 0o700 });
  let current = '';
  try {
    current = readFileSync(join(bundle, 'config.json'), 'utf8');
  } catch {
    // first use
  }
  if (current !== config) writeFileSync(join(bundle, 'config.json'), config, { mode: 0o600 });
  return bundle;
}
