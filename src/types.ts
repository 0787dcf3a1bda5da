// Public types of salvo, and the plain data that both the API and the worker protocol
// (src/worker/protocol.ts) use, one file per concern under src/types/.
export type * from './types/start.js';
export type * from './types/records.js';
export type * from './types/plain.js';
export type * from './types/batch.js';
