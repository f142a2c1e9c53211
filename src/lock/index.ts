// The lock module: the journal of every job, the cache of originals, and output checks.
export * from './entry.js';
export * from './read.js';
export * from './journal.js';
export * from './process-lock.js';
export * from './paths.js';
export * from './cache.js';
export * from './stat-cache.js';
export * from './status.js';
