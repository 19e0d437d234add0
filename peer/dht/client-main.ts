/** `npm run peer -- dht-client` (not built yet). */
export async function main(_argv: string[]): Promise<number> {
  process.stderr.write('napshare peer: the dht-client mode is not available yet.\n');
  return 2;
}
