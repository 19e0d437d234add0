/**
 * `npm run peer -- web [--listen 127.0.0.1:PORT] [--server HOST:PORT]` — the course peer driven
 * from a web page: the same session (JOIN, SEARCH, DOWNLOAD, UPDATE) and index, plus seed 002's
 * chat, served to a browser. Prints one line on stderr, the page's address with its token, and
 * nothing on stdout; runs until Ctrl+C (or SIGTERM).
 */
import { parseCommandLine, stopSignal, verboseLog } from '../../io/command-line.ts';
import { formatAddress, parseHostPort } from '../../shared/address.ts';
import { DEFAULT_SERVER_HOST, DEFAULT_SERVER_PORT } from '../../shared/defaults.ts';
import { terminalLine } from '../../shared/terminal-text.ts';
import { WebPeer } from './web-peer.ts';
import { WebServer } from './web-server.ts';

/** Where the page is served unless --listen says otherwise: this machine only, any free port. */
export const DEFAULT_LISTEN = '127.0.0.1:0';

const USAGE = `Usage: npm run -s peer -- web [--listen IP:PORT] [--server HOST:PORT] [--verbose]

Serves a web page that drives a peer: JOIN a folder, SEARCH, DOWNLOAD from one peer or all with
live progress, cancel and resume, and chat. Prints the page's address (with its token) on stderr.

Options:
  --listen IP:PORT      where the page is served (default ${DEFAULT_LISTEN}: this machine, a free port)
  --server HOST:PORT    index server (default ${DEFAULT_SERVER_HOST}:${DEFAULT_SERVER_PORT})
  --verbose             log to stderr
  -h, --help            this text`;

export async function main(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv, {
    command: 'npm run -s peer -- web',
    usage: USAGE,
    options: {
      listen: { type: 'string', default: DEFAULT_LISTEN },
      server: { type: 'string', default: `${DEFAULT_SERVER_HOST}:${DEFAULT_SERVER_PORT}` },
    },
  });
  if (!args) return 0;
  const { values } = args;
  const listen = parseHostPort(values.listen, true);
  const log = verboseLog(values.verbose, 'web');
  const peer = new WebPeer({ server: parseHostPort(values.server), log });
  let server: WebServer;
  try {
    server = await WebServer.start({ host: listen.host, port: listen.port, peer });
  } catch (error) {
    await peer.close();
    throw error;
  }
  process.stderr.write(terminalLine(`web: ${server.url}`));
  log?.(`serving the page on ${formatAddress(listen.host, server.port)}; index server ${values.server}`);
  const code = await stopSignal().then(() => 0);
  await server.close();
  await peer.close();
  return code;
}
