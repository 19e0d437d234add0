/**
 * The connection attacks (connection-attacks.ts) against each of napshare's TCP servers, one
 * group each: the server started with short timeouts for the idle, slowloris and non-reading
 * attacks (they wait the timeouts out), then with its defaults for the flood.
 */
import { floodAttack, timeoutAttacks } from './connection-attacks.ts';
import type { StressContext } from './context.ts';
import type { Target } from './target.ts';
import { startChatTarget } from './target-chat.ts';
import { startControlTarget } from './target-control.ts';
import { sharedFolder, startFileTarget } from './target-files.ts';
import { startIndexTarget } from './target-index.ts';

type Start = (ctx: StressContext, timeouts: 'short' | 'default') => Promise<Target>;

function attackServer(start: Start): (ctx: StressContext) => Promise<void> {
  return async (ctx) => {
    const short = await start(ctx, 'short');
    await timeoutAttacks(ctx, short);
    await short.close();
    const normal = await start(ctx, 'default');
    await floodAttack(ctx, normal);
    await normal.close();
  };
}

export const attackIndexServer = attackServer(startIndexTarget);
export const attackChatServer = attackServer(startChatTarget);
export const attackControlSocket = attackServer(startControlTarget);

export async function attackFileServer(ctx: StressContext): Promise<void> {
  const folder = await sharedFolder();
  await attackServer((context, timeouts) => startFileTarget(context, 'course', folder, timeouts))(ctx);
}

export async function attackLanFileServer(ctx: StressContext): Promise<void> {
  const folder = await sharedFolder();
  await attackServer((context, timeouts) => startFileTarget(context, 'lan', folder, timeouts))(ctx);
}
