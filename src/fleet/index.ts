// salvo/fleet: salvo on many machines through a BullMQ queue on Redis (docs/fleet.md). Exports only.
export { runWorker, type WorkerHandle, type WorkerOptions } from './worker.js';
export { submit, results, type QueueOptions, type ResultsOptions, type SubmitOptions, type Submitted } from './submit.js';
export { fleetStatus, type FleetStatus, type NodeInfo } from './status.js';
export { redactRedisUrl, redisOptions, type RedisConnection } from './redis.js';
export { FLEET_DEFAULTS, type StallSettings } from './settings.js';
export type { FleetJobData, FleetResult } from './job-data.js';
