/**
 * The course as a person runs it: the server and two peers on real terminals (tmux), answered with
 * keystrokes. Each terminal must end up showing exactly the lines of seed 003: the prompts are
 * drawn on stderr and erased once answered, the progress bar too. tmux is installed by .ci/run.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDirs, sha256File, writeRandomFile } from '../helpers/files.ts';
import { hasTmux, Terminals } from '../helpers/tmux.ts';
import { waitUntil } from '../helpers/wait.ts';

const terminals = new Terminals('course');
const terminal = terminals.open.bind(terminals);
const screen = terminals.screen.bind(terminals);
const until = (name: string, text: string | RegExp) => terminals.until(name, text);
const keys = terminals.keys.bind(terminals);

afterAll(async () => {
  await terminals.close();
  await removeTempDirs();
});

describe.runIf(hasTmux)('the course on real terminals', () => {
  it('server and peers answered with keystrokes show exactly the seed lines', async () => {
    const root = await makeTempDir();
    await fs.mkdir(path.join(root, 'peer1'));
    await fs.mkdir(path.join(root, 'peer2'));
    const sha = await writeRandomFile(path.join(root, 'peer1', 'aula1.mp4'), 64 * 1024 * 1024);

    // The server asks its IP (Enter: 127.0.0.1) and port (0: a free one, printed on stderr).
    await terminal('srv', 'server', [], root);
    await until('srv', 'Server IP');
    await keys('srv', 'Enter');
    await until('srv', 'Server port');
    await keys('srv', 'C-u', '0', 'Enter');
    const serverPort = /127\.0\.0\.1:(\d+)/.exec((await until('srv', 'listening on')).join('\n'))?.[1];

    const join = async (name: string, folder: string) => {
      await until(name, '❯ JOIN');
      await keys(name, 'Enter');
      await until(name, '? IP');
      await keys(name, 'Enter');
      await until(name, '? Port');
      await keys(name, '0', 'Enter');
      await until(name, '? Folder');
      await keys(name, folder, 'Enter');
      return /127\.0\.0\.1:(\d+)/.exec((await until(name, 'Sou peer')).join('\n'))?.[1];
    };
    await terminal('p1', 'peer', ['--server', `127.0.0.1:${serverPort}`], root);
    const port1 = await join('p1', 'peer1');
    await terminal('p2', 'peer', ['--server', `127.0.0.1:${serverPort}`], root);
    const port2 = await join('p2', 'peer2');

    const search = async (file: string, expected: string | RegExp) => {
      await until('p2', '❯ JOIN');
      await keys('p2', 'Down', 'Enter');
      await until('p2', '? File name');
      await keys('p2', file, 'Enter');
      await until('p2', expected);
    };
    await search('naoexiste.mp4', 'peers com arquivo solicitado:');
    await search('aula1.mp4', `peers com arquivo solicitado: 127.0.0.1:${port1}`);
    // DOWNLOAD offers the first peer of the last SEARCH as its answers: Enter, Enter.
    await until('p2', '❯ JOIN');
    await keys('p2', 'Down', 'Down', 'Enter');
    await until('p2', '? Peer IP');
    await keys('p2', 'Enter');
    await until('p2', '? Peer port');
    await keys('p2', 'Enter');
    await until('p2', 'Arquivo aula1.mp4');
    const menu = ['? napshare', '❯ JOIN', '  SEARCH', '  DOWNLOAD', '', '↑↓ navigate • ⏎ select'];
    await waitUntil(
      async () => (await screen('p2')).length === 4 + menu.length,
      'the menu is back under the lines',
    );

    expect(await screen('p2')).toEqual([
      `Sou peer 127.0.0.1:${port2} com arquivos`,
      'peers com arquivo solicitado:',
      `peers com arquivo solicitado: 127.0.0.1:${port1}`,
      'Arquivo aula1.mp4 baixado com sucesso na pasta peer2',
      ...menu,
    ]);
    expect(await screen('p1')).toEqual([`Sou peer 127.0.0.1:${port1} com arquivos aula1.mp4`, ...menu]);
    expect(await screen('srv')).toEqual([
      `listening on 127.0.0.1:${serverPort}`,
      `Peer 127.0.0.1:${port1} adicionado com arquivos aula1.mp4`,
      `Peer 127.0.0.1:${port2} adicionado com arquivos`,
      `Peer 127.0.0.1:${port2} solicitou arquivo naoexiste.mp4`,
      `Peer 127.0.0.1:${port2} solicitou arquivo aula1.mp4`,
    ]);
    expect(await sha256File(path.join(root, 'peer2', 'aula1.mp4'))).toBe(sha);

    // The server restarts (same port): the menu steps aside for the notices, redraws under them,
    // and the peer, joined again by itself, is found by SEARCH.
    await keys('srv', 'C-c');
    await until('p2', 'Lost the index server');
    await terminals.kill('srv');
    await terminal('srv2', 'server', ['--host', '127.0.0.1', '--port', String(serverPort)], root);
    // Each peer comes back on its own backoff schedule: wait for both JOINs on the new server.
    await until('srv2', `Peer 127.0.0.1:${port1} adicionado com arquivos aula1.mp4`);
    await until('srv2', `Peer 127.0.0.1:${port2} adicionado com arquivos aula1.mp4`);
    await until('p2', 'Reconnected to the index server');
    // The index lists peers in the order they joined, here the order they came back: either.
    const [a, b] = [`127\\.0\\.0\\.1:${port1}`, `127\\.0\\.0\\.1:${port2}`];
    const both = new RegExp(`^peers com arquivo solicitado: (${a} ${b}|${b} ${a})$`);
    await search('aula1.mp4', both);
    await waitUntil(
      async () => (await screen('p2')).length === 7 + menu.length,
      'the menu is back under the lines',
    );
    const lines = await screen('p2');
    expect(lines.slice(4, 7)).toEqual([
      `Lost the index server at 127.0.0.1:${serverPort}; reconnecting.`,
      expect.stringMatching(/^Reconnected to the index server/),
      expect.stringMatching(both),
    ]);
    expect(lines.slice(7)).toEqual(menu);

    // The extended menu (--extended) adds a fourth entry: the file from every peer of the SEARCH.
    await fs.mkdir(path.join(root, 'peer3'));
    await terminal('p3', 'peer', ['--server', `127.0.0.1:${serverPort}`, '--extended'], root);
    const port3 = await join('p3', 'peer3');
    await keys('p3', 'Down', 'Enter');
    await until('p3', '? File name');
    await keys('p3', 'aula1.mp4', 'Enter');
    await until('p3', both);
    await until('p3', '  DOWNLOAD from all peers');
    await keys('p3', 'Down', 'Down', 'Down', 'Enter');
    await until('p3', 'Arquivo aula1.mp4 baixado com sucesso na pasta peer3');
    const extendedMenu = [...menu.slice(0, 4), '  DOWNLOAD from all peers', ...menu.slice(4)];
    await waitUntil(
      async () => (await screen('p3')).length === 3 + extendedMenu.length,
      'the extended menu is back',
    );
    expect(await screen('p3')).toEqual([
      `Sou peer 127.0.0.1:${port3} com arquivos`,
      expect.stringMatching(both),
      'Arquivo aula1.mp4 baixado com sucesso na pasta peer3',
      ...extendedMenu,
    ]);
    expect(await sha256File(path.join(root, 'peer3', 'aula1.mp4'))).toBe(sha);

    // Ctrl+C at the menu quits cleanly: the menu is erased, the lines stay.
    await keys('p2', 'C-c');
    await waitUntil(async () => (await screen('p2')).length === 7, 'the menu is erased');
  });
});
