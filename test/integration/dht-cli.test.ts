/**
 * The real entry points as a person runs them: `npm run peer -- dht ...` with every port 0 (the
 * bound ports are read from stderr), driven over its control socket, then `dht-client`.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HELP_LINES } from '../../peer/dht/control-commands.ts';
import { type CliProcess, killAll, ROOT, runCli } from '../helpers/cli.ts';
import { makeTempDir, removeTempDirs, writeRandomFile } from '../helpers/files.ts';
import { floodKrpc } from '../helpers/krpc-flood.ts';
import { ControlClient } from './dht-helpers.ts';

afterAll(async () => {
  await killAll();
  await removeTempDirs();
});

const STARTED =
  /^dht daemon: dht udp 127\.0\.0\.1:(\d+), file server tcp 127\.0\.0\.1:(\d+), control tcp 127\.0\.0\.1:(\d+), bootstrap (.*)$/;

async function startDaemon(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ daemon: CliProcess; dht: number; files: number; control: number }> {
  const downloads = await makeTempDir();
  const host = args.includes('--host') ? [] : ['--host', '127.0.0.1'];
  const daemon = runCli(
    'peer',
    ['dht', '--dir', downloads, ...host, '--port', '0', '--dht-port', '0', '--control', '0', ...args],
    { cwd, env },
  );
  const match = STARTED.exec(await daemon.waitFor(STARTED, 'stderr')) as RegExpExecArray;
  return { daemon, dht: Number(match[1]), files: Number(match[2]), control: Number(match[3]) };
}

describe('npm run peer -- dht', () => {
  it('starts on free ports, prints them on stderr, is driven over its control socket, stops on SIGTERM', async () => {
    const cwd = await makeTempDir();
    await fs.mkdir(path.join(cwd, 'music'));
    await writeRandomFile(path.join(cwd, 'music', 'Song One.ogg'), 5000);
    const first = await startDaemon(['--bootstrap', 'none'], cwd);
    const second = await startDaemon(['--bootstrap', `127.0.0.1:${first.dht}`], cwd);
    expect(second.daemon.stderr.at(-1)).toMatch(new RegExp(`bootstrap 127\\.0\\.0\\.1:${first.dht}$`));

    const control = await ControlClient.connect(first.control);
    // Relative to the daemon's working directory.
    expect(await control.ask('publish music')).toEqual(['Published 1 file from music.']);
    const other = await ControlClient.connect(second.control);
    expect(await other.ask('search song')).toEqual(['song found.', `127.0.0.1:${first.files} Song One.ogg`]);
    control.close();
    other.close();

    second.daemon.kill('SIGTERM');
    expect(await second.daemon.exited).toBe(0);
    expect(second.daemon.stdout).toEqual([]);
    first.daemon.kill('SIGTERM');
    expect(await first.daemon.exited).toBe(0);
  });

  it('binds 127.0.0.1 unless told otherwise, and refuses to join nodes it could not reach from there', async () => {
    const cwd = await makeTempDir();
    const downloads = await makeTempDir();
    const daemon = runCli('peer', ['dht', '--dir', downloads, '--dht-port', '0', '--control', '0'], { cwd });
    const started = await daemon.waitFor(/^dht daemon: /, 'stderr');
    expect(started).toMatch(/^dht daemon: dht udp 127\.0\.0\.1:\d+, file server tcp 127\.0\.0\.1:\d+, /);
    daemon.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);

    const far = runCli('peer', ['dht', '--dir', downloads, '--bootstrap', '192.168.1.20:6881'], { cwd });
    expect(await far.exited).toBe(1);
    expect(far.stderr).toEqual([
      "napshare peer: --bootstrap 192.168.1.20:6881 is not on this machine, but the DHT node binds 127.0.0.1: give --host 0.0.0.0 (or this machine's address on that network) to join it.",
    ]);
  });

  it('takes folders from where the user started it (INIT_CWD), never from the napshare folder', async () => {
    const startedIn = await makeTempDir();
    await fs.mkdir(path.join(startedIn, 'shared'));
    await writeRandomFile(path.join(startedIn, 'shared', 'mine.txt'), 100);
    // npm starts scripts in the napshare folder (which has a shared/ folder of its own) and passes
    // the user's folder as INIT_CWD.
    const { daemon, control } = await startDaemon(['--dir', '.'], ROOT, { INIT_CWD: startedIn });
    const client = await ControlClient.connect(control);
    expect(await client.ask('publish shared')).toEqual([
      'Published 1 file from shared; no DHT node known yet, announced as soon as one is.',
    ]);
    const status = await client.ask('status');
    expect(status.slice(4)).toEqual([
      'Published: 1 file under 3 keys',
      'Not announced yet: 3 keys (waiting for a first DHT node)',
      '  mine.txt',
    ]);
    client.close();
    daemon.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  });

  it('refuses bad options with one clear sentence', async () => {
    const cwd = await makeTempDir();
    const noDir = runCli('peer', ['dht', '--control', '0'], { cwd });
    expect(await noDir.exited).toBe(1);
    expect(noDir.stderr).toEqual(['napshare peer: Missing --dir; see npm run -s peer -- dht --help.']);
    const badBootstrap = runCli('peer', ['dht', '--dir', cwd, '--bootstrap', 'router.example:1'], { cwd });
    expect(await badBootstrap.exited).toBe(1);
    expect(badBootstrap.stderr.join('\n')).toMatch(/Invalid IP address "router\.example"/);
  });
});

describe('the four datagrams that used to stop the daemon', () => {
  it('are each dropped, counted and logged; the daemon goes on answering', async () => {
    const cwd = await makeTempDir();
    const { daemon, dht, control } = await startDaemon(['--verbose'], cwd);
    const datagrams = [
      'd1:ad2:id20:AAAAAAAAAAAAAAAAAAAA9:info_hashi5ee1:q9:get_peers1:t2:aa1:y1:qe',
      'd1:ad2:id20:AAAAAAAAAAAAAAAAAAAA6:targeti5ee1:q9:find_node1:t2:aa1:y1:qe',
      'd1:ad2:id20:AAAAAAAAAAAAAAAAAAAA9:info_hashli1eee1:q9:get_peers1:t2:aa1:y1:qe',
      'd1:ad2:id20:AAAAAAAAAAAAAAAAAAAA6:targeti5ee1:q3:get1:t2:aa1:y1:qe',
    ];
    for (const text of datagrams) {
      // Each datagram alone, then a ping the daemon must answer.
      const result = await floodKrpc([Buffer.from(text, 'latin1')], { port: dht, batch: 1 });
      expect(result.answered).toBe(1);
    }
    expect(daemon.child.exitCode).toBeNull();
    const client = await ControlClient.connect(control);
    expect(await client.ask('help')).toEqual(HELP_LINES);
    expect((await client.ask('status'))[3]).toMatch(
      /^Datagrams: \d+ received, 4 malformed dropped, 0 the DHT library failed on$/,
    );
    client.close();
    const dropped = daemon.stderr.filter((line) => line.startsWith('[dht] dht: dropped '));
    expect(dropped.map((line) => line.replace(/^.*: Malformed KRPC: /, ''))).toEqual([
      'get_peers query: info_hash is the integer 5, not a 20-byte string.',
      'find_node query: target is the integer 5, not a 20-byte string.',
      'get_peers query: info_hash is a list, not a 20-byte string.',
      'get query: target is the integer 5, not a 20-byte string.',
    ]);
    expect(dropped[0]).toMatch(/^\[dht\] dht: dropped 75 bytes from 127\.0\.0\.1:\d+: /);
    daemon.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  });
});

describe('npm run peer -- dht-client', () => {
  it('sends each line, prints each answer, leaves on quit', async () => {
    const cwd = await makeTempDir();
    const { daemon, control } = await startDaemon([], cwd);
    const client = runCli('peer', ['dht-client', '--control', String(control)], { cwd });
    client.send('status');
    client.send('');
    client.send('dance');
    client.send('quit');
    expect(await client.exited).toBe(0);
    expect(client.stdout[0]).toMatch(/^Node id [0-9a-f]{40}$/);
    expect(client.stdout.slice(-2)).toEqual([
      'Unknown command "dance"; type help for the list of commands.',
      'Bye.',
    ]);
    daemon.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  });

  it('says so when no daemon listens', async () => {
    const cwd = await makeTempDir();
    const { daemon, control } = await startDaemon([], cwd);
    daemon.kill('SIGTERM');
    await daemon.exited;
    const client = runCli('peer', ['dht-client', '--control', String(control)], { cwd });
    expect(await client.exited).toBe(1);
    expect(client.stderr.join('\n')).toMatch(
      /Could not reach the DHT daemon at 127\.0\.0\.1:\d+: connection refused/,
    );
  });
});
