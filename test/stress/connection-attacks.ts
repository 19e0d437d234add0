/**
 * The attacks of a few hostile sockets (test/helpers/attackers.ts), against any napshare TCP
 * server (target.ts): idle connections, slowloris, clients that never read, and a connection
 * flood past the per-address cap and then past the server's own. Each time: the server stays up,
 * every hostile socket gets exactly its documented line (or, not reading, is cut), a newcomer
 * past a cap is refused with a line, well-behaved clients are served throughout (every answer
 * checked), and the server's memory is back under its budget afterwards.
 */
import {
  type AttackSocket,
  connectFrom,
  endAttack,
  idleFlood,
  loopbackAddress,
  slowloris,
} from '../helpers/attackers.ts';
import { withDeadline } from '../helpers/wait.ts';
import type { StressContext } from './context.ts';
import { pause } from './deadline.ts';
import { memoryMiB } from './processes.ts';
import { count, type Row } from './report.ts';
import { p99, type Target } from './target.ts';

/** How much later than its deadline a server may close a socket on a busy 2-core machine. */
export const CLOSE_MARGIN_MS = 20_000;
/** How late a server's deadline may fire on a busy machine, beyond its own setting. */
const CUT_SLACK_MS = 3000;
/** A dismissed socket lives at least its timeout, less the timer's own slack. */
export const TIMER_SLACK_MS = 100;

/** What underAttack needs of a server: any napshare server with well-behaved clients (the web page's too). */
export type Attacked = Pick<Target, 'name' | 'process' | 'serve' | 'memoryBudgetMiB'>;

/** The three attacks a server started with short timeouts takes, one row each. */
export async function timeoutAttacks(ctx: StressContext, target: Target): Promise<void> {
  await idleAttack(ctx, target);
  await slowlorisAttack(ctx, target);
  await nonReaderAttack(ctx, target);
}

async function idleAttack(ctx: StressContext, target: Target): Promise<void> {
  const total = Math.max(ctx.profile.idleSockets, target.maxPerIp * target.attackers.length + 10);
  const row = ctx.row(`${target.name}: ${count(total)} idle connections`);
  await underAttack(row, target, async () => {
    const sockets = await idleFlood({ port: target.port, from: (i) => attacker(target, i) }, total);
    await settle(sockets, target.idleMs + CLOSE_MARGIN_MS);
    judge(row, target, sockets, { line: target.lines.idle, afterMs: target.idleMs });
    return sockets;
  });
}

async function slowlorisAttack(ctx: StressContext, target: Target): Promise<void> {
  const total = Math.max(ctx.profile.slowlorisSockets, target.maxPerIp * target.attackers.length + 10);
  const row = ctx.row(`${target.name}: ${count(total)} slowloris connections (a byte every 200 ms)`);
  await underAttack(row, target, async () => {
    const trickle = await slowloris({ port: target.port, from: (i) => attacker(target, i) }, total, {
      tickMs: 200,
      prefix: target.slowPrefix,
    });
    try {
      await settle(trickle.sockets, target.unfinishedMs + CLOSE_MARGIN_MS);
    } finally {
      trickle.stop();
    }
    judge(row, target, trickle.sockets, { line: target.lines.unfinished, afterMs: target.unfinishedMs });
    return trickle.sockets;
  });
}

async function nonReaderAttack(ctx: StressContext, target: Target): Promise<void> {
  const from = target.attackers[0] as string;
  const row = ctx.row(`${target.name}: ${target.maxPerIp} clients that ask and never read, and a newcomer`);
  await underAttack(row, target, async () => {
    // Each one asks as soon as it is connected (an admitted client that has not asked yet is idle,
    // and its idle timeout must not free a place before the newcomer comes).
    const readers = await idleFlood({ port: target.port, from }, target.maxPerIp, (socket, i) =>
      target.nonReader(socket, i),
    );
    // Their address's share is taken: one more is refused with its line.
    const newcomer = await connectFrom(target.port, from);
    await settle([newcomer], CLOSE_MARGIN_MS);
    row.check(
      newcomer.text === target.lines.perIp(from),
      () => `the newcomer got ${JSON.stringify(newcomer.text)}`,
    );
    const end = target.nonReaderEnd;
    let cut = 0;
    if ('cutAfterMs' in end) {
      // A socket that does not read does not see its server's close either: the attack waits the
      // server's deadline out, then reads again — what it gets shows whether it was cut or served.
      await pause(end.cutAfterMs + CUT_SLACK_MS);
      for (const socket of readers) socket.socket.resume();
      await settle(readers, CLOSE_MARGIN_MS);
      for (const socket of readers)
        if (
          row.check(
            socket.isClosed && end.wasCut(socket),
            () => `a client that did not read was not cut off (${socket.bytesReceived} bytes)`,
          )
        )
          cut++;
      row.note(`${cut} cut off`);
    } else {
      // Held within their share (a joined peer is never timed out): the others are served meanwhile.
      await pause(end.heldForMs);
      row.note(
        `held ${end.heldForMs / 1000} s, ${readers.filter((socket) => socket.isClosed).length} cut off`,
      );
    }
    row.tries = readers.length + 1;
    row.survived =
      ('cutAfterMs' in end ? cut : readers.length) + (newcomer.text === target.lines.perIp(from) ? 1 : 0);
    return [...readers, newcomer];
  });
}

/**
 * A server started with its default timeouts: a flood past one address's share (the rest are
 * refused with a line, others are let in), then past the server's own cap from many addresses
 * (newcomers get the "full" line; the well-behaved clients already connected are served).
 */
export async function floodAttack(ctx: StressContext, target: Target): Promise<void> {
  const extra = Math.max(10, Math.floor(ctx.profile.floodSockets / 4));
  const perAddress = target.maxPerIp + extra;
  const fill = target.maxConnections - target.goodConnections;
  const row = ctx.row(
    `${target.name}: flood of ${count(perAddress)} connections from one address, then ${count(fill + extra)} from ${count(fill + extra)} addresses past its cap of ${count(target.maxConnections)}`,
  );
  await underAttack(row, target, async (serving) => {
    const from = target.attackers[0] as string;
    // Connects race one another: which ones get the address's share is the server's choice.
    const flood = await idleFlood({ port: target.port, from }, perAddress);
    await settle(flood, CLOSE_MARGIN_MS, (closed) => closed >= extra);
    let handled = 0;
    for (const socket of flood) {
      if (!socket.isClosed) continue;
      if (
        row.check(
          socket.text === target.lines.perIp(from),
          () => `past the address's cap: ${JSON.stringify(socket.text)}`,
        )
      )
        handled++;
    }
    const held = flood.filter((socket) => !socket.isClosed).length;
    row.check(
      held === target.maxPerIp,
      () => `${held} connections of one address were let in, not ${target.maxPerIp}`,
    );
    handled += Math.min(held, target.maxPerIp);
    await endAttack(flood);

    // The whole server: every place taken, from many addresses; newcomers (127.0.0.1 too) refused.
    await serving.admission.hold();
    const taken = await idleFlood({ port: target.port, from: (i) => loopbackAddress(i) }, fill);
    const late = await idleFlood({ port: target.port, from: (i) => loopbackAddress(fill + i) }, extra);
    const local = await connectFrom(target.port, '127.0.0.1');
    const all = [...taken, ...late, local];
    await settle(all, CLOSE_MARGIN_MS, (closed) => closed >= extra + 1);
    let admitted = 0;
    for (const socket of all) {
      if (!socket.isClosed) admitted++;
      else if (
        row.check(
          socket.text === target.lines.full,
          () => `past the server's cap: ${JSON.stringify(socket.text)}`,
        )
      )
        handled++;
    }
    row.check(
      admitted === fill,
      () => `${admitted} connections let in beside the well-behaved ones, not ${fill}`,
    );
    row.check(local.isClosed, () => 'a newcomer from 127.0.0.1 was let in past the cap');
    handled += Math.min(admitted, fill);
    await endAttack(all);
    serving.admission.admit();
    row.tries = perAddress + all.length;
    row.survived = handled;
    row.note(`${count(extra)} refused past the address share, ${count(extra + 1)} past the server's cap`);
    return [];
  });
}

/**
 * Runs `attack` beside well-behaved traffic and counts what the server owes: alive, everyone
 * served, memory back under budget. `attack` returns its sockets; they are closed after it.
 */
export async function underAttack(
  row: Row,
  target: Attacked,
  attack: (serving: ReturnType<Target['serve']>) => Promise<AttackSocket[]>,
): Promise<void> {
  const before = await memoryMiB(target.process.pid);
  const serving = target.serve(row);
  let sockets: AttackSocket[] = [];
  try {
    sockets = await attack(serving);
  } finally {
    // The well-behaved clients go on a little after the attack: served once it is over too.
    await pause(300);
    const served = await withDeadline(
      serving.stop(),
      60_000,
      `the well-behaved clients of the ${target.name} to finish`,
    );
    await endAttack(sockets);
    row.note(
      `${count(served.answers)} answers to well-behaved clients checked, p99 ${p99(served.latenciesMs).toFixed(1)} ms`,
    );
  }
  row.check(target.process.alive, () => `the ${target.name} is not running`);
  const after = await memoryMiB(target.process.pid).catch(() => ({ rss: Number.NaN, peak: Number.NaN }));
  row.check(
    after.rss < target.memoryBudgetMiB,
    () => `the ${target.name} holds ${after.rss.toFixed(0)} MiB after the attack`,
  );
  row.note(
    `RSS ${before.rss.toFixed(0)} -> peak ${after.peak.toFixed(0)} -> ${after.rss.toFixed(0)} MiB (budget ${target.memoryBudgetMiB})`,
  );
}

/**
 * Every socket given a line or closed as documented: refused at once past its address's share,
 * or dismissed with `line` no sooner than `afterMs`. Sets the row's tries and survived.
 */
function judge(
  row: Row,
  target: Target,
  sockets: AttackSocket[],
  expected: { line: string; afterMs: number },
): void {
  let refused = 0;
  let dismissed = 0;
  for (const [i, socket] of sockets.entries()) {
    const text = target.ownText(socket);
    if (text === target.lines.perIp(attacker(target, i))) refused++;
    else if (
      row.check(
        text === expected.line && (socket.lifetimeMs ?? 0) >= expected.afterMs - TIMER_SLACK_MS,
        () => `got ${JSON.stringify(text)} after ${socket.lifetimeMs?.toFixed(0) ?? 'never closing'} ms`,
      )
    )
      dismissed++;
  }
  row.check(refused > 0, () => 'no newcomer was refused past its address share');
  row.tries = sockets.length;
  row.survived = refused + dismissed;
  row.note(`${count(refused)} refused past the address share, ${count(dismissed)} dismissed with their line`);
}

/**
 * Waits until every socket is closed (or `enough` says, from how many are closed, that those
 * expected to close have), or `ms` have passed: whoever judges then counts what is still open.
 */
export async function settle(
  sockets: AttackSocket[],
  ms: number,
  enough: (closed: number) => boolean = (closed) => closed === sockets.length,
): Promise<void> {
  let closed = sockets.filter((socket) => socket.isClosed).length;
  if (enough(closed)) return;
  const done = new Promise<void>((resolve) => {
    for (const socket of sockets)
      if (!socket.isClosed)
        void socket.closed.then(() => {
          if (enough(++closed)) resolve();
        });
  });
  await withDeadline(done, ms, 'the server to close them').catch(() => {});
}

function attacker(target: Target, index: number): string {
  return target.attackers[index % target.attackers.length] as string;
}
