/**
 * The index benchmark's load client, one for both protocols, so napshare and redis-server are
 * measured by the same code: closed loops over N connections, each sending `inFlight` requests
 * in one write and the next batch once all their replies are in (what `redis-benchmark -P` does).
 * The hot path only counts replies (napshare: lines; RESP: bulk replies, parsed); what they say is
 * checked before the timed runs. Latency of a request: from its batch's write to the arrival of
 * the chunk that completes its reply.
 */
import net from 'node:net';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/** Counts the complete replies in a stream of chunks (a reply may be cut anywhere). */
export interface ReplyCounter {
  count(chunk: Buffer): number;
}

/** napshare: one reply per line. */
export class LineCounter implements ReplyCounter {
  count(chunk: Buffer): number {
    let replies = 0;
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) replies++;
    return replies;
  }
}

/** RESP2 replies of GET and SET: `$N\r\n<N bytes>\r\n`, `$-1\r\n`, `+OK\r\n`. */
export class RespCounter implements ReplyCounter {
  // Bytes of a bulk body (and its CRLF) still to skip; -1: reading a header line.
  private skip = -1;
  private header = '';

  count(chunk: Buffer): number {
    let replies = 0;
    let at = 0;
    while (at < chunk.length) {
      if (this.skip >= 0) {
        const take = Math.min(this.skip, chunk.length - at);
        this.skip -= take;
        at += take;
        if (this.skip === 0) {
          this.skip = -1;
          replies++;
        }
        continue;
      }
      const end = chunk.indexOf(10, at);
      if (end === -1) {
        this.header += chunk.toString('latin1', at);
        break;
      }
      const line = this.header + chunk.toString('latin1', at, end - 1);
      this.header = '';
      at = end + 1;
      if (line[0] === '$') {
        const length = Number(line.slice(1));
        if (length < 0) replies++;
        else this.skip = length + 2;
      } else if (line[0] === '+') replies++;
      else throw new Error(`unexpected RESP reply ${JSON.stringify(line.slice(0, 200))}`);
    }
    return replies;
  }
}

export interface LoadResult {
  /** Replies counted in the timed window. */
  requests: number;
  /** Every reply received, warm-up and the last batches included. */
  total: number;
  seconds: number;
  /** Latency per request, nanoseconds. */
  latency: RecordableHistogram;
}

/** Opens `count` connections to 127.0.0.1:port (from `localAddress(i)` when given). */
export async function openConnections(
  port: number,
  count: number,
  localAddress?: (index: number) => string,
): Promise<net.Socket[]> {
  return Promise.all(
    Array.from(
      { length: count },
      (_, i) =>
        new Promise<net.Socket>((resolve, reject) => {
          const socket = net.connect({ host: '127.0.0.1', port, localAddress: localAddress?.(i) }, () =>
            resolve(socket),
          );
          socket.setNoDelay(true);
          socket.once('error', reject);
        }),
    ),
  );
}

/**
 * Sends `request(n)` for n = 0, 1, 2... on every connection (each from its own offset), `inFlight`
 * at a time, for `seconds` after `warmupSeconds` (not counted); every connection then finishes
 * its batch. `counter()` makes one reply counter per connection.
 */
export async function runLoad(options: {
  sockets: net.Socket[];
  requests: readonly Buffer[];
  inFlight: number;
  counter: () => ReplyCounter;
  seconds: number;
  warmupSeconds: number;
}): Promise<LoadResult> {
  const { sockets, requests, inFlight } = options;
  // Batches built once: the hot path writes a ready Buffer.
  const batches: Buffer[] = [];
  for (let i = 0; i < requests.length; i += inFlight)
    batches.push(
      Buffer.concat(
        Array.from({ length: inFlight }, (_, k) => requests[(i + k) % requests.length] as Buffer),
      ),
    );
  const latency = createHistogram();
  let counting = false;
  let stopping = false;
  let counted = 0;
  let total = 0;
  const started = performance.now();
  let countFrom = started;
  const loops = sockets.map(
    (socket, index) =>
      new Promise<void>((resolve, reject) => {
        const counter = options.counter();
        let batch = Math.floor((index * batches.length) / sockets.length);
        let waiting = 0;
        let sentAt = 0;
        const send = () => {
          if (stopping) {
            socket.off('data', onData);
            socket.off('close', onClose);
            resolve();
            return;
          }
          waiting = inFlight;
          sentAt = performance.now();
          socket.write(batches[batch] as Buffer);
          batch = (batch + 1) % batches.length;
        };
        const onData = (chunk: Buffer) => {
          let replies: number;
          try {
            replies = counter.count(chunk);
          } catch (error) {
            reject(error);
            return;
          }
          if (replies === 0) return;
          if (replies > waiting) {
            reject(new Error(`connection ${index}: ${replies} replies to ${waiting} requests`));
            return;
          }
          waiting -= replies;
          total += replies;
          if (counting) {
            const ns = Math.max(1, Math.round((performance.now() - sentAt) * 1e6));
            for (let r = 0; r < replies; r++) latency.record(ns);
            counted += replies;
          }
          if (waiting === 0) send();
        };
        const onClose = () => reject(new Error(`connection ${index} closed by the server`));
        socket.on('data', onData);
        socket.once('close', onClose);
        send();
      }),
  );
  await new Promise((resolve) => setTimeout(resolve, options.warmupSeconds * 1000));
  counting = true;
  countFrom = performance.now();
  await new Promise((resolve) => setTimeout(resolve, options.seconds * 1000));
  const seconds = (performance.now() - countFrom) / 1000;
  const requestsCounted = counted;
  counting = false;
  stopping = true;
  await Promise.all(loops);
  return { requests: requestsCounted, total, seconds, latency };
}
