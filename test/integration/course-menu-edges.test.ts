/**
 * The course menu on real terminals (tmux), where a person strays from the happy path: a DOWNLOAD
 * before JOIN, a folder that does not exist, an index server that is not there, Ctrl+C in the
 * middle of a download, and a transcript kept with `> file` or `| tee file`. Each terminal must
 * show exactly what a person should read: one sentence per mistake, the seed's lines, no leftover
 * prompt or progress bar.
 */
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { TYPED_COMMANDS_NOTICE } from '../../peer/console-mode.ts';
import { type CliProcess, killAll, runCli, startServer } from '../helpers/cli.ts';
import { makeTempDir, removeTempDirs, sha256File, writeRandomFile } from '../helpers/files.ts';
import { hasTmux, Terminals } from '../helpers/tmux.ts';
import { waitUntil } from '../helpers/wait.ts';

const terminals = new Terminals('edges');
const MENU = ['? napshare', '❯ JOIN', '  SEARCH', '  DOWNLOAD', '', '↑↓ navigate • ⏎ select'];

afterEach(killAll);
afterAll(async () => {
  await terminals.close();
  await removeTempDirs();
});

/** A TCP port nothing listens on (bound, read, closed). */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A peer sharing `folder` (line mode) until the test ends; resolves with its port. */
async function uploader(serverPort: number, folder: string, extra: string[] = []): Promise<number> {
  const peer: CliProcess = runCli('peer', [
    '--server',
    `127.0.0.1:${serverPort}`,
    '--keep-sharing',
    ...extra,
  ]);
  peer.send(`JOIN 127.0.0.1 0 ${folder}`);
  return Number(/127\.0\.0\.1:(\d+)/.exec(await peer.waitFor('Sou peer'))?.[1]);
}

/**
 * An index server (CLI), and in a new folder `up/aula1.mp4` (`size` random bytes) shared by an
 * uploader run with `uploaderArgs`, beside an empty `down` to download into.
 */
async function sharedAula(size: number, uploaderArgs: string[] = []) {
  const root = await makeTempDir();
  await fs.mkdir(path.join(root, 'up'));
  await fs.mkdir(path.join(root, 'down'));
  const sha = await writeRandomFile(path.join(root, 'up', 'aula1.mp4'), size);
  const { port } = await startServer();
  const upPort = await uploader(port, path.join(root, 'up'), uploaderArgs);
  return { root, sha, port, upPort };
}

/** Waits until the program in terminal `name` has exited (the terminal then runs `sleep`). */
async function exited(name: string): Promise<void> {
  await waitUntil(
    async () =>
      (await terminals.tmux('list-panes', '-t', name, '-F', '#{pane_current_command}')).trim() === 'sleep',
    `the program in terminal ${name} exits`,
    30_000,
  );
}

/** JOIN, SEARCH and DOWNLOAD at the menu, each prompt answered (port 0, the SEARCH's first peer). */
async function joinSearchDownload(name: string, folder: string, file: string): Promise<void> {
  await terminals.until(name, '❯ JOIN');
  await terminals.keys(name, 'Enter');
  await terminals.until(name, '? IP');
  await terminals.keys(name, 'Enter');
  await terminals.until(name, '? Port');
  await terminals.keys(name, '0', 'Enter');
  await terminals.until(name, '? Folder');
  await terminals.keys(name, '-l', folder);
  await terminals.keys(name, 'Enter');
  await terminals.until(name, 'Sou peer');
  await terminals.keys(name, 'Down', 'Enter');
  await terminals.until(name, '? File name');
  await terminals.keys(name, '-l', file);
  await terminals.keys(name, 'Enter');
  await terminals.until(name, /^peers com arquivo solicitado: 127/);
  await terminals.keys(name, 'Down', 'Down', 'Enter');
  await terminals.until(name, '? Peer IP');
  await terminals.keys(name, 'Enter');
  await terminals.until(name, '? Peer port');
  await terminals.keys(name, 'Enter');
}

describe.runIf(hasTmux)('the course menu off the happy path', () => {
  it('refuses a DOWNLOAD before JOIN at once, names a missing folder as typed, says how to reach another server', async () => {
    const root = await makeTempDir();
    await fs.mkdir(path.join(root, 'peer1'));
    const port = await deadPort();
    await terminals.open('p', 'peer', ['--server', `127.0.0.1:${port}`], root);
    await terminals.until('p', '❯ JOIN');

    // DOWNLOAD first: refused before any question (no "Peer IP" is ever drawn).
    await terminals.keys('p', 'Down', 'Down', 'Enter');
    const refused = 'JOIN first: downloads are saved into the folder given at JOIN.';
    await terminals.showsExactly('p', [refused, ...MENU], 'the refusal under the menu');

    // A folder that does not exist: named exactly as typed, backslashes and all.
    const join = async (folder: string) => {
      await terminals.until('p', '❯ JOIN');
      await terminals.keys('p', 'Enter');
      await terminals.until('p', '? IP');
      await terminals.keys('p', 'Enter');
      await terminals.until('p', '? Port');
      await terminals.keys('p', '0', 'Enter');
      await terminals.until('p', '? Folder');
      await terminals.keys('p', '-l', folder);
      await terminals.keys('p', 'Enter');
    };
    await join('c:\\temp\\peer9\\');
    const missing = 'The folder c:\\temp\\peer9\\ does not exist or is not a folder.';
    await terminals.showsExactly('p', [refused, missing, ...MENU], 'the missing folder as typed');

    // No index server at that address: the sentence says how to point the peer elsewhere.
    await join('peer1');
    const unreachable = `Could not reach the index server at 127.0.0.1:${port}: connection refused (is it running?); if it runs on another address or port, start this peer with --server HOST:PORT.`;
    await terminals.showsExactly('p', [refused, missing, unreachable, ...MENU], 'the unreachable server');
  });

  it('DOWNLOAD after JOIN but before SEARCH is refused before any question too', async () => {
    const root = await makeTempDir();
    await fs.mkdir(path.join(root, 'peer1'));
    const { port } = await startServer();
    await terminals.open('q', 'peer', ['--server', `127.0.0.1:${port}`], root);
    await terminals.until('q', '❯ JOIN');
    await terminals.keys('q', 'Enter');
    await terminals.until('q', '? IP');
    await terminals.keys('q', 'Enter');
    await terminals.until('q', '? Port');
    await terminals.keys('q', '0', 'Enter');
    await terminals.until('q', '? Folder');
    await terminals.keys('q', 'peer1', 'Enter');
    const joined = (await terminals.until('q', 'Sou peer'))[0] as string;
    await terminals.until('q', '❯ JOIN');
    await terminals.keys('q', 'Down', 'Down', 'Enter');
    await terminals.showsExactly(
      'q',
      [joined, 'SEARCH a file first: DOWNLOAD fetches the file of the last SEARCH.', ...MENU],
      'the refusal under the menu',
    );
  });

  it('Ctrl+C during a download leaves the lines and no progress bar', async () => {
    // 16 MB/s: the download runs for seconds after Ctrl+C comes, its progress moving several
    // times a second (a piece every 0.25 s) while the peer leaves.
    const { root, port, upPort } = await sharedAula(128 * 1024 * 1024, ['--max-upload-rate', '16MB']);
    await terminals.open('d', 'peer', ['--server', `127.0.0.1:${port}`], root);
    await joinSearchDownload('d', 'down', 'aula1.mp4');
    const screen = await terminals.until('d', /^aula1\.mp4 .*% /);
    await terminals.keys('d', 'C-c');
    await exited('d');
    expect(await terminals.screen('d')).toEqual([
      screen[0],
      `peers com arquivo solicitado: 127.0.0.1:${upPort}`,
    ]);
  });

  it('stdout in a file: the menu as usual on the terminal, exactly the seed lines in the file', async () => {
    const { root, sha, port, upPort } = await sharedAula(1024 * 1024);
    await terminals.open('f', 'peer', ['--server', `127.0.0.1:${port}`], root, '> transcript.txt');
    await joinSearchDownload('f', 'down', 'aula1.mp4');
    const lines = [
      expect.stringMatching(/^Sou peer 127\.0\.0\.1:\d+ com arquivos$/),
      `peers com arquivo solicitado: 127.0.0.1:${upPort}`,
      'Arquivo aula1.mp4 baixado com sucesso na pasta down',
    ];
    await terminals.until('f', 'Arquivo aula1.mp4');
    await waitUntil(async () => (await terminals.screen('f')).length === 3 + MENU.length, 'the menu is back');
    expect(await terminals.screen('f')).toEqual([...lines, ...MENU]);
    await terminals.keys('f', 'C-c');
    await exited('f');
    const transcript = await fs.readFile(path.join(root, 'transcript.txt'), 'utf8');
    expect(transcript.split('\n')).toEqual([...lines, '']);
    expect(await sha256File(path.join(root, 'down', 'aula1.mp4'))).toBe(sha);
  });

  it('stdout in a pipe (| tee): typed line commands, clean lines on the terminal and in the file', async () => {
    const { root, sha, port, upPort } = await sharedAula(1024 * 1024);
    await terminals.open('t', 'peer', ['--server', `127.0.0.1:${port}`], root, '| tee transcript.txt');
    await terminals.until('t', 'stdout goes to a pipe');
    const commands = ['JOIN 127.0.0.1 0 down', 'SEARCH aula1.mp4', `DOWNLOAD 127.0.0.1 ${upPort}`];
    const answers = [/^Sou peer 127\.0\.0\.1:\d+ com arquivos$/, /^peers com arquivo/, /^Arquivo aula1\.mp4/];
    // Each command typed once the answer to the one before is on the terminal, as a person does.
    for (const [i, command] of commands.entries()) {
      await terminals.keys('t', '-l', command);
      await terminals.keys('t', 'Enter');
      await terminals.until('t', answers[i] as RegExp);
    }
    await terminals.keys('t', 'C-d');
    await exited('t');
    const lines = [
      expect.stringMatching(/^Sou peer 127\.0\.0\.1:\d+ com arquivos$/),
      `peers com arquivo solicitado: 127.0.0.1:${upPort}`,
      'Arquivo aula1.mp4 baixado com sucesso na pasta down',
    ];
    expect(await terminals.screen('t')).toEqual([
      TYPED_COMMANDS_NOTICE,
      ...commands.flatMap((c, i) => [c, lines[i]]),
    ]);
    const transcript = await fs.readFile(path.join(root, 'transcript.txt'), 'utf8');
    expect(transcript.split('\n')).toEqual([...lines, '']);
    expect(await sha256File(path.join(root, 'down', 'aula1.mp4'))).toBe(sha);
  });
});
