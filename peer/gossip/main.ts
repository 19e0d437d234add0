/** `npm run peer -- gossip` (not built yet). */
export async function main(_argv: string[]): Promise<number> {
  process.stderr.write('napshare peer: the gossip mode is not available yet.\n');
  return 2;
}
