/**
 * A file server written from docs/protocol.md's transfer protocol alone, as another implementation of
 * the course would be: it answers DOWNLOAD (with an optional offset) and refuses anything else
 * with BAD_REQUEST. `cutAfter` makes its first transfer stop after that many body bytes.
 */
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { LineSplitter } from '../../shared/line-splitter.ts';

export async function startPlainPeer(folder: string, options: { cutAfter?: number } = {}) {
  let cut = options.cutAfter;
  const requests: Record<string, unknown>[] = [];
  const server = net.createServer((socket) => {
    const splitter = new LineSplitter(1 << 16);
    socket.on('error', () => {});
    socket.on('data', async (chunk: Buffer) => {
      const line = splitter.push(chunk)[0];
      if (line === undefined) return;
      const request = JSON.parse(line) as { type: string; file: string; offset?: number };
      requests.push(request);
      if (request.type !== 'DOWNLOAD')
        return socket.end('{"type":"DOWNLOAD_REJECTED","reason":"BAD_REQUEST"}\n');
      const data = await fs.readFile(path.join(folder, request.file)).catch(() => null);
      if (!data) return socket.end('{"type":"DOWNLOAD_REJECTED","reason":"NOT_FOUND"}\n');
      const body = data.subarray(request.offset ?? 0);
      socket.write(`${JSON.stringify({ type: 'DOWNLOAD_OK', size: body.length })}\n`);
      if (cut !== undefined) {
        const part = body.subarray(0, cut);
        cut = undefined;
        socket.end(part);
      } else socket.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, requests, close: () => server.close() };
}
