/**
 * A napshare file server (peer/file-server.ts) on 127.0.0.1, a free port, sharing one file of
 * random bytes, optionally capped at `rate` bytes/s so that a download lasts a while. Closed by
 * `closeFileSources` (afterEach).
 */
import path from 'node:path';
import { FileServer } from '../../peer/file-server.ts';
import { RateLimiter } from '../../peer/rate-limiter.ts';
import { FolderCatalog } from '../../peer/shared-folder.ts';
import { makeTempDir, writeRandomFile } from './files.ts';

const started: FileServer[] = [];

export async function fileSource(name: string, size: number, options: { rate?: number } = {}) {
  const dir = await makeTempDir();
  const sha = await writeRandomFile(path.join(dir, name), size);
  const server = await FileServer.start({
    host: '127.0.0.1',
    port: 0,
    catalog: new FolderCatalog(dir),
    limiter: options.rate ? new RateLimiter(options.rate) : undefined,
  });
  started.push(server);
  return { dir, sha, server, source: { host: '127.0.0.1', port: server.port } };
}

export async function closeFileSources(): Promise<void> {
  await Promise.all(started.splice(0).map((server) => server.close()));
}
