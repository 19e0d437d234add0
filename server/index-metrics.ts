/**
 * What an operator watches on an index server (`--metrics HOST:PORT`), in Prometheus's text
 * format (prom-client). State only: metrics-http.ts serves it. Counts the server already keeps
 * (peers, entries, connections, bytes) are read when scraped, so they cost a request nothing;
 * per request there is one counter step and one histogram observation, and only when metrics are on.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What the index server tells its observer as it works. */
export interface IndexObserver {
  /** A request of `type` (its message type, or INVALID when it did not decode) was answered. */
  answered(type: string, seconds: number): void;
  /** An ERROR reply with `code` was sent (a refused request, or a connection dismissed). */
  refused(code: string): void;
}

/** The counts of the server read at each scrape. */
export interface IndexCounts {
  readonly peers: number;
  readonly entries: number;
  readonly names: number;
  readonly connections: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/**
 * Latency buckets, seconds: 25 µs (a SEARCH answered at once) to 1 s (a JOIN waiting on a PROBE
 * of a silent holder), so both ends of what the server does have their own buckets.
 */
export const LATENCY_BUCKETS_S = [
  0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];

/** Prefix of every metric name. */
const PREFIX = 'napshare_index_';

export class IndexMetrics implements IndexObserver {
  readonly registry = new Registry();
  private read: (() => IndexCounts) | undefined;
  // The counts of the scrape under way, read once for all the metrics.
  private counts: IndexCounts | undefined;
  private readonly requests: Counter<'type'>;
  private readonly errors: Counter<'code'>;
  private readonly latency: Histogram<'type'>;
  // One bound child per request type: a label lookup per request costs more than the count.
  private readonly children = new Map<string, { count: () => void; observe: (s: number) => void }>();

  constructor() {
    const registers = [this.registry];
    const counts = () => this.counts;
    const gauge = (name: string, help: string, read: (counts: IndexCounts) => number) =>
      new Gauge({
        name: PREFIX + name,
        help,
        registers,
        collect() {
          const now = counts();
          if (now) this.set(read(now));
        },
      });
    gauge('peers', 'Peers joined to the index now.', (counts) => counts.peers);
    gauge('entries', '(peer, file) entries in the index now.', (counts) => counts.entries);
    gauge('file_names', 'Distinct file names in the index now.', (counts) => counts.names);
    gauge('connections', 'Client connections open now, joined or not.', (counts) => counts.connections);
    const bytes = (name: string, help: string, read: (counts: IndexCounts) => number) =>
      new Counter({
        name: PREFIX + name,
        help,
        registers,
        // A running total the server keeps: the counter is set to it at each scrape.
        collect() {
          const now = counts();
          if (!now) return;
          this.reset();
          this.inc(read(now));
        },
      });
    bytes('received_bytes_total', 'Bytes received from clients.', (counts) => counts.bytesIn);
    bytes('sent_bytes_total', 'Bytes sent to clients.', (counts) => counts.bytesOut);
    this.requests = new Counter({
      name: `${PREFIX}requests_total`,
      help: 'Requests answered, by message type (INVALID: a line that is not a request).',
      labelNames: ['type'],
      registers,
    });
    this.errors = new Counter({
      name: `${PREFIX}errors_total`,
      help: 'ERROR replies sent, by code (refused requests and dismissed connections).',
      labelNames: ['code'],
      registers,
    });
    this.latency = new Histogram({
      name: `${PREFIX}request_duration_seconds`,
      help: 'From a request line handled to its reply made, by message type.',
      labelNames: ['type'],
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
  }

  /** Where the gauges and byte counters read their values at each scrape. */
  watch(read: () => IndexCounts): void {
    this.read = read;
  }

  answered(type: string, seconds: number): void {
    let child = this.children.get(type);
    if (child === undefined) {
      const count = this.requests.labels(type);
      const latency = this.latency.labels(type);
      child = { count: () => count.inc(), observe: (s) => latency.observe(s) };
      this.children.set(type, child);
    }
    child.count();
    child.observe(seconds);
  }

  // Labels stay few: request types are the protocol's (or INVALID), codes are napshare's own.
  refused(code: string): void {
    this.errors.inc({ code });
  }

  /** The Prometheus text of every metric now. */
  async text(): Promise<string> {
    this.counts = this.read?.();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
