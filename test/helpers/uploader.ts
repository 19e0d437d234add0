/**
 * A stand-alone file server process for tests that kill uploaders: serves a folder with napshare's
 * FileServer on 127.0.0.1, a free port, printed as the first stdout line.
 * Usage: uploader.ts FOLDER [RATE_BYTES_PER_SECOND]
 */
import { FileServer } from '../../peer/file-server.ts';
import { RateLimiter } from '../../peer/rate-limiter.ts';
import { FolderCatalog } from '../../peer/shared-folder.ts';

const [folder, rate] = process.argv.slice(2);
if (!folder) throw new Error('usage: uploader.ts FOLDER [RATE]');
const server = await FileServer.start({
  host: '127.0.0.1',
  port: 0,
  catalog: new FolderCatalog(folder),
  limiter: rate ? new RateLimiter(Number(rate)) : undefined,
});
process.stdout.write(`${server.port}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
