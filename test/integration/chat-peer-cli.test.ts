/**
 * `npm run peer -- chat` as real processes (seed 002's clients) around a real index server:
 * relay without echo, /showall, /query, /setNick, /setSharedFiles, /register, /fetch (SHA-256
 * equal), departures seen by the others (by exit, a killed process, a missed heartbeat), max peers.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type CliProcess, killAll, runCli, startServer } from '../helpers/cli.ts';
import { makeTempDir, removeTempDirs, sha256File, writeRandomFile } from '../helpers/files.ts';
import { LineClient } from '../helpers/line-client.ts';

afterEach(async () => {
  await killAll();
  await removeTempDirs();
});

interface ChatProcess {
  cli: CliProcess;
  /** The announced file-server address, read from stderr. */
  address: string;
}

async function chatPeer(
  alias: string,
  dir: string,
  serverPort: number,
  extra: string[] = [],
): Promise<ChatProcess> {
  const cli = runCli('peer', [
    'chat',
    '--alias',
    alias,
    '--dir',
    dir,
    '--port',
    '0',
    '--server',
    `127.0.0.1:${serverPort}`,
    ...extra,
  ]);
  const line = await cli.waitFor(/^Joined the index server/, 'stderr');
  const address = /at (127\.0\.0\.1:\d+)\.$/.exec(line)?.[1];
  if (address === undefined) throw new Error(`no address in ${line}`);
  return { cli, address };
}

/** Exactly `line` on stdout (already printed or future). */
function printed(peer: ChatProcess, line: string): Promise<string> {
  return peer.cli.waitFor(new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
}

describe('chat peers', () => {
  it('three peers: relay without echo, showall, query, setNick, setSharedFiles, fetch, departures', async () => {
    const [dirA, dirB, dirC] = await Promise.all([makeTempDir(), makeTempDir(), makeTempDir()]);
    const original = await writeRandomFile(path.join(dirA, 'a.bin'), 2 * 1024 * 1024 + 3);
    await writeRandomFile(path.join(dirB, 'b.txt'), 100);
    const { server, port } = await startServer();
    const ana = await chatPeer('ana', dirA, port);
    const bob = await chatPeer('bob', dirB, port);
    const cris = await chatPeer('cris', dirC, port);

    ana.cli.send('hello everyone: from ana');
    await printed(bob, 'ana: hello everyone: from ana');
    await printed(cris, 'ana: hello everyone: from ana');

    cris.cli.send('/showall');
    await printed(cris, `cris -> ${cris.address} (0 files) (you)`);
    const start = cris.cli.stdout.indexOf('Online Users:') - 1;
    expect((await cris.cli.waitForLines(start + 6)).slice(start)).toEqual([
      '-----',
      'Online Users:',
      `ana -> ${ana.address} (1 file)`,
      `bob -> ${bob.address} (1 file)`,
      `cris -> ${cris.address} (0 files) (you)`,
      '-----',
    ]);

    bob.cli.send('/query a.bin');
    await printed(bob, `${ana.address} | ana => a.bin`);
    bob.cli.send('/query nothing.here');
    await printed(bob, 'No peer shares nothing.here.');
    bob.cli.send('/setNick bobby');
    await printed(bob, 'Nick changed to bobby');
    bob.cli.send('hi from bobby');
    await printed(ana, 'bobby: hi from bobby');
    await printed(cris, 'bobby: hi from bobby');

    cris.cli.send(`/fetch a.bin ${ana.address}`);
    await printed(cris, `File Downloaded! a.bin (2097155 bytes) saved in ${dirC}`);
    expect(await sha256File(path.join(dirC, 'a.bin'))).toBe(original);
    await fs.writeFile(path.join(dirC, 'c.txt'), 'new file');
    cris.cli.send('/setSharedFiles');
    await printed(cris, 'Sharing 2 files: a.bin c.txt');
    ana.cli.send('/query c.txt');
    await printed(ana, `${cris.address} | cris => c.txt`);
    ana.cli.send('/query a.bin');
    await printed(ana, `${cris.address} | cris => a.bin`);
    // Seed 002's /register: alias, port and the folder's files told to the server again.
    await fs.writeFile(path.join(dirC, 'd.txt'), 'another');
    cris.cli.send('/register');
    await printed(cris, `Registered as cris at ${cris.address} with 3 files: a.bin c.txt d.txt`);
    ana.cli.send('/query d.txt');
    await printed(ana, `${cris.address} | cris => d.txt`);

    // Nobody saw their own messages: the echo would have come before these later answers.
    expect(ana.cli.stdout.filter((line) => line.startsWith('ana: '))).toEqual([]);
    expect(bob.cli.stdout.filter((line) => line.startsWith('bobby: '))).toEqual([]);

    // Seed 002's client leaves on `exit`.
    cris.cli.send('exit');
    expect(await cris.cli.exited).toBe(0);
    await printed(ana, `* cris left (${cris.address})`);
    await printed(bob, `* cris left (${cris.address})`);
    bob.cli.kill('SIGKILL');
    await printed(ana, `* bobby left (${bob.address})`);
    expect(await ana.cli.end()).toBe(0);

    // Nothing of the chat on the server's stdout: only the course's JOIN lines.
    expect(server.stdout).toEqual([
      `Peer ${ana.address} adicionado com arquivos a.bin`,
      `Peer ${bob.address} adicionado com arquivos b.txt`,
      `Peer ${cris.address} adicionado com arquivos`,
    ]);
  });

  it('with piped stdin, runs every line and waits for the answers before exiting at end of input', async () => {
    const [dirA, dirB] = await Promise.all([makeTempDir(), makeTempDir()]);
    const original = await writeRandomFile(path.join(dirA, 'big.bin'), 8 * 1024 * 1024);
    const { port } = await startServer();
    const ana = await chatPeer('ana', dirA, port);
    const bob = runCli('peer', [
      'chat',
      '--alias',
      'bob',
      '--dir',
      dirB,
      '--port',
      '0',
      '--server',
      `127.0.0.1:${port}`,
    ]);
    bob.child.stdin.end(`/fetch big.bin ${ana.address}\n/showall\n/setSharedFiles\nbye\n/nosuchcommand\n`);
    expect(await bob.exited).toBe(1); // one line failed
    expect(await sha256File(path.join(dirB, 'big.bin'))).toBe(original);
    expect(bob.stdout[0]).toBe(`File Downloaded! big.bin (8388608 bytes) saved in ${dirB}`);
    expect(bob.stdout.at(-1)).toBe('Sharing 1 file: big.bin');
    expect(bob.stderr.some((line) => line.startsWith('Unknown command /nosuchcommand'))).toBe(true);
    await printed(ana, 'bob: bye');
    await ana.cli.waitFor(/^\* bob left/);
  });

  it('refuses the peer past --max-peers with a clear error', async () => {
    const dir = await makeTempDir();
    const { server, port } = await startServer(['--max-peers', '2']);
    await chatPeer('one', dir, port);
    await chatPeer('two', dir, port);
    const third = runCli('peer', [
      'chat',
      '--alias',
      'three',
      '--dir',
      dir,
      '--port',
      '0',
      '--server',
      `127.0.0.1:${port}`,
    ]);
    expect(await third.exited).toBe(1);
    expect(third.stderr.join('\n')).toMatch(/full \(2 peers joined\)/);
    expect(server.stdout).toHaveLength(2);
  });

  it('a peer without heartbeats is announced as timed out; live chat peers stay', async () => {
    const dir = await makeTempDir();
    // 3 s: the chat peers beat every second (a third of it), so a loaded machine may hold a
    // process back two whole seconds before a live peer is wrongly dropped.
    const timeoutMs = 3000;
    const { port } = await startServer(['--heartbeat-timeout', String(timeoutMs / 1000)]);
    const ana = await chatPeer('ana', dir, port);
    const bob = await chatPeer('bob', dir, port);
    const ghost = await LineClient.connect(port);
    try {
      await ghost.request({ type: 'JOIN', ip: '127.0.0.1', port: 9, files: [], alias: 'ghost' });
      const pinged = performance.now();
      // Opts in, then never speaks again; the PONG carries the server's timeout from the flag.
      expect(await ghost.request({ type: 'PING' })).toEqual({ type: 'PONG', timeoutMs });
      await printed(ana, '* ghost timed out (127.0.0.1:9)');
      // Not before the timeout (counted from the PING, which the server got after we sent it);
      // the upper bound is generous for a loaded machine, yet fails a timeout read in the wrong unit.
      const after = performance.now() - pinged;
      expect(after).toBeGreaterThanOrEqual(timeoutMs);
      expect(after).toBeLessThan(timeoutMs + 10_000);
      await printed(bob, '* ghost timed out (127.0.0.1:9)');
      // The chat peers opted in before the ghost and kept beating: still online, still chatting.
      ana.cli.send('/showall');
      await printed(ana, `bob -> ${bob.address} (0 files)`);
      ana.cli.send('still here');
      await printed(bob, 'ana: still here');
      expect([...ana.cli.stdout, ...bob.cli.stdout].some((line) => /\* (ana|bob) /.test(line))).toBe(false);
    } finally {
      ghost.close();
    }
  });
});
