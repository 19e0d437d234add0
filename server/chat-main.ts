/** `npm run server -- chat`: the line chat server of seed 000 (not built yet). */
export async function runChatServer(_argv: string[]): Promise<number> {
  process.stderr.write('napshare server: the chat server is not available yet.\n');
  return 2;
}
