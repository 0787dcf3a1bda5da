// A batch's id (also `salvo run`'s default container id): its own module, so a client that only
// names things does not load the batch machinery.
import { randomBytes } from 'node:crypto';

export function newBatchId(): string {
  return `b${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}
