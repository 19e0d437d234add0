/**
 * A real TCP server on 127.0.0.1 that answers each JSON line it receives with whatever a test
 * scripts: a hostile index server, a forgetful one, or a hostile uploader. It records what it got.
 */
import net from 'node:net';
import { LineSplitter } from '../../shared/line-splitter.ts';

/** One request as the server received it, and the connection it came on (1, 2, ...). */
export interface Received {
  connection: number;
  message: Record<string, unknown>;
}

/**
 * Answers one request: bytes to write (a string is one JSON line as it is, newline included), or
 * undefined for no answer; `end` closes the connection after writing.
 */
export type Script = (
  message: Record<string, unknown>,
  connection: number,
) => string | Buffer | { write: string | Buffer; end: true } | undefined;

export class ScriptedServer {
  readonly received: Received[] = [];
  private readonly sockets = new Set<net.Socket>();
  private connections = 0;

  private constructor(
    private readonly server: net.Server,
    private readonly script: Script,
  ) {}

  static async start(script: Script): Promise<ScriptedServer> {
    const server = net.createServer();
    const scripted = new ScriptedServer(server, script);
    server.on('connection', (socket) => scripted.onConnection(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return scripted;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** The types received so far, in order. */
  get types(): string[] {
    return this.received.map((r) => String(r.message.type));
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(socket: net.Socket): void {
    const connection = ++this.connections;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    const splitter = new LineSplitter(1 << 20);
    socket.on('data', (chunk: Buffer) => {
      for (const line of splitter.push(chunk)) {
        const message = JSON.parse(line) as Record<string, unknown>;
        this.received.push({ connection, message });
        const answer = this.script(message, connection);
        if (answer === undefined) continue;
        if (typeof answer === 'string' || Buffer.isBuffer(answer)) socket.write(answer);
        else socket.end(answer.write);
      }
    });
  }
}

/** One JSON line, as a server writes it. */
export function line(message: object): string {
  return `${JSON.stringify(message)}\n`;
}
