/**
 * @quire/server — the Quire sync server: coordinators, the commit log and
 * the WebSocket endpoint. Exports are listed by name.
 */
export { createSyncServer } from './sync-server.js';
export type { Authorize, AuthorizeRequest, Health, SyncServer, SyncServerOptions, WorkerOptions } from './sync-server.js';
export type { ServerLimits } from './limits.js';
export { createLogger } from './logger.js';
export type { Logger } from './logger.js';
export { FileCommitLog } from './log/file-commit-log.js';
export type { Checkpoint, CheckpointInfo, CheckpointState, CommitLog, CommitLogSummary, CommitRecord, RejectionRecord, VolumeMark } from './log/commit-log.js';
export type { PageImage } from '@quire/core/internal';
export type { CompactionOptions } from './coordinator/checkpoint-policy.js';
export { S3CommitLog } from './log/s3/s3-commit-log.js';
export { S3Store } from './log/s3/s3-store.js';
export type { S3LogOptions } from './log/s3/s3-log-options.js';
