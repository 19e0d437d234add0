/**
 * The network a download test starts from: an index server on 127.0.0.1 (port 0) and a
 * PeerSession uploader JOINed with a temp folder that holds one random file.
 */
import path from 'node:path';
import { PeerSession, type PeerSessionOptions } from '../../peer/session.ts';
import { IndexServer } from '../../server/index-server.ts';
import { makeTempDir, writeRandomFile } from './files.ts';

export interface IndexAndUploader {
  index: IndexServer;
  /** The index's address, as a PeerSession or `--server` takes it. */
  server: { host: string; port: number };
  uploader: PeerSession;
  /** The port the uploader's file server listens on. */
  uploaderPort: number;
  /** The uploader's shared folder, holding `file.name`. */
  folder: string;
  /** The SHA-256 of the file's random bytes, to compare a download with. */
  sha: string;
}

/**
 * Starts both; each close is pushed onto `closers` as soon as there is something to close, so a
 * test that closes them in reverse (its afterEach) stops the uploader before the index, even when
 * the start fails half-way. `uploaderOptions` adds to the uploader's (e.g. a rate limiter).
 */
export async function startIndexAndUploader(
  closers: (() => Promise<void> | void)[],
  file: { name: string; size: number },
  uploaderOptions: Partial<PeerSessionOptions> = {},
): Promise<IndexAndUploader> {
  const index = await IndexServer.start({ host: '127.0.0.1', port: 0, print: () => {} });
  closers.push(() => index.close());
  const server = { host: '127.0.0.1', port: index.address().port };
  const folder = await makeTempDir();
  const sha = await writeRandomFile(path.join(folder, file.name), file.size);
  const uploader = new PeerSession({ server, print: () => {}, ...uploaderOptions });
  closers.push(() => uploader.close());
  await uploader.join('127.0.0.1', 0, folder);
  const uploaderPort = uploader.joined?.port;
  if (uploaderPort === undefined) throw new Error('the uploader JOINed but has no file server port');
  return { index, server, uploader, uploaderPort, folder, sha };
}
