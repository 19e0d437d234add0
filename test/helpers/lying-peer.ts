/**
 * A hand-written file server that lies: it answers INFO with the true hashes of one file and
 * DOWNLOAD with the bytes of another (a corrupted or malicious peer). Speaks the transfer
 * protocol directly, so the lie is not limited by what napshare's own server would do.
 */
import fs from 'node:fs/promises';
import net from 'node:net';
import { hashFile } from '../../peer/file-hasher.ts';
import { LineSplitter } from '../../shared/line-splitter.ts';
import { serveRange } from './request-server.ts';

export async function startLyingPeer(
  infoFrom: string,
  dataFrom: string,
): Promise<{ port: number; close: () => void }> {
  const info = await hashFile(infoFrom, (await fs.stat(infoFrom)).size);
  const data = await fs.readFile(dataFrom);
  const server = net.createServer((socket) => {
    const splitter = new LineSplitter(1 << 16);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      for (const line of splitter.push(chunk)) {
        const request = JSON.parse(line) as { type: string; offset?: number; length?: number };
        if (request.type === 'INFO') {
          socket.end(`${JSON.stringify({ type: 'INFO_OK', ...info })}\n`);
        } else serveRange(socket, data, request);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}
