/**
 * Starts one of the peer's plain-JavaScript worker threads (hash-worker.mjs,
 * transfer/sha256-worker.mjs): without the inherited `--import tsx` (the loader would cost each
 * thread its own copy of tsx, megabytes and milliseconds) and with a small heap (each holds a
 * buffer or a few running hashes at most), so a thread adds a few MiB to the peer's resident
 * memory (docs/performance.md).
 */
import { Worker } from 'node:worker_threads';

const LIMITS = { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1 };

export function startPlainWorker(url: URL): Worker {
  return new Worker(url, { resourceLimits: LIMITS, execArgv: [] });
}
