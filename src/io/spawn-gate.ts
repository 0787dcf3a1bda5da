// A counting semaphore in shared memory, so that a worker prepares a start at once and then waits
// for a spawn slot itself: prepare overlaps earlier starts' runtime calls without a second task.
// Layout (Int32Array over a SharedArrayBuffer): [0] free slots, [1] closed (1 = stop waiting).

const FREE = 0;
const CLOSED = 1;

export function createSpawnGate(capacity: number): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(8);
  Atomics.store(new Int32Array(buffer), FREE, capacity);
  return buffer;
}

/** Takes a slot; resolves false if the gate was closed (the batch was aborted) while waiting. */
export async function acquireSpawnSlot(buffer: SharedArrayBuffer): Promise<boolean> {
  const cells = new Int32Array(buffer);
  for (;;) {
    if (Atomics.load(cells, CLOSED) === 1) return false;
    const free = Atomics.load(cells, FREE);
    if (free > 0) {
      if (Atomics.compareExchange(cells, FREE, free, free - 1) === free) return true;
      continue;
    }
    // The timeout bounds a wake-up missed between the closed check and the wait.
    const wait = Atomics.waitAsync(cells, FREE, free, 500);
    if (wait.async) await wait.value;
  }
}

export function releaseSpawnSlot(buffer: SharedArrayBuffer): void {
  const cells = new Int32Array(buffer);
  Atomics.add(cells, FREE, 1);
  Atomics.notify(cells, FREE, 1);
}

/** Wakes every waiter and makes them give up. */
export function closeSpawnGate(buffer: SharedArrayBuffer): void {
  const cells = new Int32Array(buffer);
  Atomics.store(cells, CLOSED, 1);
  Atomics.notify(cells, FREE);
}
