/** `npm run peer -- chat` (not built yet). */
export async function main(_argv: string[]): Promise<number> {
  process.stderr.write('napshare peer: the chat mode is not available yet.\n');
  return 2;
}
