// A batch's id (also `salvo run`'s default container id): its own module, so a client that only
// names things does not load the batch machinery. Math.random, not node:crypto: an id must not
// collide, not stay secret, and a CLI client then loads none of crypto's 18 modules.
export function newBatchId(): string {
  const random = Math.floor(Math.random() * 0x1000000)
    .toString(16)
    .padStart(6, '0');
  return `b${Date.now().toString(36)}${random}`;
}
