/** `npm run peer -- dht` (not built yet). */
export async function main(_argv: string[]): Promise<number> {
  process.stderr.write('napshare peer: the dht mode is not available yet.\n');
  return 2;
}
