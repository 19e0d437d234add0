// @ts-check
/**
 * The thread that computes a download's SHA-256s (peer/transfer/thread-hash.ts), so that the
 * thread that receives the bytes only receives: on two cores, receiving and hashing a piece run
 * side by side instead of in turns (docs/performance.md). Plain JavaScript: it starts without the
 * TypeScript loader.
 *
 * It keeps running hashes by number and takes one operation per message, in order:
 * `{ op: 'new', id }`, `{ op: 'copy', id, from }`, `{ op: 'update', id, memory, offset, length,
 * reply }` (the bytes are read in place from a SharedArrayBuffer, or from an ArrayBuffer handed
 * over; `{ reply }` is posted once they are hashed, so their buffer may be used again),
 * `{ op: 'digest', id, reply }` (posts `{ reply, hex }`; the hash is then gone) and
 * `{ op: 'drop', id }`; `{ op: 'live', reply }` posts `{ reply, live }`, the number of hashes held
 * (for tests that nothing is left behind). An operation on an unknown hash posts `{ reply, error }`
 * when it has a reply, and is dropped otherwise.
 */
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

const port = parentPort;
if (port === null) throw new Error('peer/transfer/sha256-worker.mjs runs as a worker thread only');

/** @type {Map<number, import('node:crypto').Hash>} */
const hashes = new Map();

port.on('message', (/** @type {any} */ op) => {
  if (op.op === 'live') {
    port.postMessage({ reply: op.reply, live: hashes.size });
    return;
  }
  const hash = op.op === 'new' ? undefined : hashes.get(op.op === 'copy' ? op.from : op.id);
  if (op.op !== 'new' && hash === undefined) {
    if (op.reply !== undefined) port.postMessage({ reply: op.reply, error: `no hash ${op.id}` });
    return;
  }
  switch (op.op) {
    case 'new':
      hashes.set(op.id, createHash('sha256'));
      break;
    case 'copy':
      hashes.set(op.id, /** @type {import('node:crypto').Hash} */ (hash).copy());
      break;
    case 'update':
      hash?.update(new Uint8Array(op.memory, op.offset, op.length));
      port.postMessage({ reply: op.reply });
      break;
    case 'digest':
      hashes.delete(op.id);
      port.postMessage({ reply: op.reply, hex: hash?.digest('hex') });
      break;
    case 'drop':
      hashes.delete(op.id);
      break;
  }
});
