/**
 * The index benchmark's crowd, a child process of bench/index-bench.ts (forked with an IPC
 * channel): `peers` peers, each its own connection from its own loopback address announcing that
 * address, JOIN with their files (bench/index-names.ts) and then stay connected, as peers do,
 * until the bench kills the process. It reports the time from the first connect to the last
 * JOIN_OK. Its own process, so the bench's descriptors and CPU stay for the load client.
 */
import net from 'node:net';
import { peerIp, population } from './index-names.ts';

/** Peers connecting and joining at once: enough to keep the server busy, within its backlog (511). */
const CONCURRENT_JOINS = 256;
/** The port every peer announces (each has its own IP, so addresses are distinct). */
export const CROWD_FILE_PORT = 6346;

export interface CrowdRequest {
  port: number;
  peers: number;
  filesPerPeer: number;
  seed: number;
}
export type CrowdReport = { loaded: true; seconds: number } | { loaded: false; error: string };

const JOIN_OK = '{"type":"JOIN_OK"}\n';

function joinPeer(port: number, index: number, files: string[], sockets: net.Socket[]): Promise<void> {
  const ip = peerIp(index);
  const line = `${JSON.stringify({ type: 'JOIN', ip, port: CROWD_FILE_PORT, files })}\n`;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: ip });
    let reply = '';
    socket.setNoDelay(true);
    socket.once('connect', () => socket.write(line));
    socket.on('error', (error) => reject(new Error(`peer ${ip}: ${error.message}`)));
    const onData = (chunk: Buffer) => {
      reply += chunk.toString('utf8');
      if (!reply.includes('\n')) return;
      socket.off('data', onData);
      if (reply !== JOIN_OK) reject(new Error(`peer ${ip} got ${reply.trim().slice(0, 300)}`));
      else resolve();
    };
    socket.on('data', onData);
    sockets.push(socket);
  });
}

async function load(request: CrowdRequest): Promise<number> {
  const { files } = population(request.seed, request.peers, request.filesPerPeer);
  const sockets: net.Socket[] = [];
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const index = next++;
      await joinPeer(request.port, index, files[index] as string[], sockets);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENT_JOINS }, worker));
  return (performance.now() - started) / 1000;
}

process.once('message', (request: CrowdRequest) => {
  load(request).then(
    (seconds) => process.send?.({ loaded: true, seconds } satisfies CrowdReport),
    (error: unknown) =>
      process.send?.({ loaded: false, error: error instanceof Error ? error.message : String(error) }),
  );
});
