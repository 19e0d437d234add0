/**
 * A stand-alone file server process for tests that kill uploaders: serves a folder with napshare's
 * FileServer on 127.0.0.1, a free port, printed as the first stdout line.
 * Usage: uploader.ts FOLDER [RATE_BYTES_PER_SECOND] (0 or none: no cap)
 */
import { FileServer } from '../../peer/file-server.ts';
import { RateLimiter } from '../../peer/rate-limiter.ts';
import { FolderCatalog } from '../../peer/shared-folder.ts';

const [folder, rate = '0'] = process.argv.slice(2);
const bytesPerSecond = Number(rate);
if (!folder || !Number.isSafeInteger(bytesPerSecond) || bytesPerSecond < 0)
  throw new Error('usage: uploader.ts FOLDER [RATE_BYTES_PER_SECOND]');
const server = await FileServer.start({
  host: '127.0.0.1',
  port: 0,
  catalog: new FolderCatalog(folder),
  // 0 is no cap: no limiter at all (a limiter of 0 bytes/s would wait an infinite time per chunk).
  limiter: bytesPerSecond > 0 ? new RateLimiter(bytesPerSecond) : undefined,
});
process.stdout.write(`${server.port}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
