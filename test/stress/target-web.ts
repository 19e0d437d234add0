/**
 * The web peer (the real `npm run peer -- web` process, joined through its API to a real index
 * server with a folder of many files, so that each state event is tens of KB) as the target of
 * the web-connections attacks. A well-behaved page on 127.0.0.1 keeps asking GET /api/state with
 * the token on its one keep-alive connection and checks each answer; now and then a newcomer
 * asks on a new connection, while the server admits them.
 */

import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { makeTempDir } from '../helpers/files.ts';
import type { Attacked } from './connection-attacks.ts';
import type { StressContext } from './context.ts';
import { pause } from './deadline.ts';
import type { Row } from './report.ts';
import { counted, serveLoop } from './target.ts';
import { ask } from './web-http.ts';

/** An answer takes well under this on a busy 2-core machine (the bound the page is held to). */
export const ANSWER_TIMEOUT_MS = 15_000;
/** The well-behaved page asks this often: a page polls never, so this is already a busy one. */
const ASK_EVERY_MS = 100;
/**
 * Resident memory the peer may keep after an attack: a Node process with tsx (about 100 MiB),
 * 64 connections' headers and bodies (16 KiB each, 2 MiB), 16 event streams' 1 MiB backlogs, and
 * room for the garbage collector to be late.
 */
const MEMORY_BUDGET_MIB = 300;
/** Files in the joined folder (the most a state lists), long names: each state event is about 100 KB. */
const SHARED_FILES = 1000;

export interface WebTarget extends Attacked {
  port: number;
  token: string;
  /** The Authorization header of a well-behaved request. */
  auth: Record<string, string>;
  /** One event for every open stream: a SEARCH through the API, which broadcasts the state. */
  triggerEvent(): Promise<void>;
  close(): Promise<void>;
}

export async function startWebTarget(ctx: StressContext): Promise<WebTarget> {
  const index = ctx.cli('server', ['--host', '127.0.0.1', '--port', '0'], 'the index server');
  const indexPort = Number(
    /:(\d+)$/.exec(await index.waitFor(/^listening on 127\.0\.0\.1:\d+$/, 'stderr'))?.[1],
  );
  const folder = await makeTempDir('napshare-stress-');
  for (let i = 0; i < SHARED_FILES; i++)
    await writeFile(
      path.join(folder, `shared-file-${String(i).padStart(4, '0')}-${'n'.repeat(60)}.txt`),
      `${i}`,
    );
  const peer = ctx.cli('peer', ['web', '--server', `127.0.0.1:${indexPort}`], 'the web peer');
  const url = new URL((await peer.waitFor(/^web: http:\/\/127\.0\.0\.1:\d+\/\?token=/, 'stderr')).slice(5));
  const port = Number(url.port);
  const token = url.searchParams.get('token') as string;
  const auth = { authorization: `Bearer ${token}` };
  const json = { ...auth, 'content-type': 'application/json' };
  const joined = await ask(
    port,
    {
      method: 'POST',
      path: '/api/join',
      headers: json,
      body: JSON.stringify({ ip: '127.0.0.1', port: 0, folder }),
    },
    ANSWER_TIMEOUT_MS,
  );
  if (joined.status !== 200) throw new Error(`the web peer did not join: ${joined.status} ${joined.body}`);
  const target: WebTarget = {
    name: 'web server',
    process: peer,
    port,
    token,
    auth,
    memoryBudgetMiB: MEMORY_BUDGET_MIB,
    serve: (row) => asking(row, port, auth, folder),
    triggerEvent: async () => {
      const searched = await ask(
        port,
        { method: 'POST', path: '/api/search', headers: json, body: JSON.stringify({ file: 'absent.bin' }) },
        ANSWER_TIMEOUT_MS,
      );
      if (searched.status !== 200)
        throw new Error(`a SEARCH was answered ${searched.status} ${searched.body}`);
    },
    close: async () => {
      await peer.stop();
      await index.stop();
    },
  };
  return target;
}

/** GET /api/state on the held connection, and every fifth time on a new one. */
function asking(row: Row, port: number, auth: Record<string, string>, folder: string) {
  const held = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return serveLoop(
    (serving) => {
      const state = async (agent?: http.Agent) => {
        const started = performance.now();
        const answer = await ask(port, { path: '/api/state', headers: auth, agent }, ANSWER_TIMEOUT_MS);
        serving.answered(started);
        let joinedFolder: unknown;
        try {
          joinedFolder = (JSON.parse(answer.body) as { joined?: { folder?: unknown } }).joined?.folder;
        } catch {
          // not JSON: counted wrong below
        }
        row.check(
          answer.status === 200 && joinedFolder === folder,
          () => `GET /api/state answered ${answer.status} ${answer.body.slice(0, 200)}`,
        );
      };
      const loop = async () => {
        for (let round = 0; !serving.stopped; round++) {
          await state(held);
          if (round % 5 === 4) await serving.admission.newcomer(() => state());
          await pause(ASK_EVERY_MS);
        }
      };
      return counted(row, loop(), 'the well-behaved page');
    },
    () => held.destroy(),
  );
}
