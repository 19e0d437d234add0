/**
 * The real entry points as a person runs them: `npm run peer -- dht ...` with every port 0 (the
 * bound ports are read from stderr), driven over its control socket, then `dht-client`.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliProcess, killAll, runCli } from '../helpers/cli.ts';
import { makeTempDir, removeTempDirs, writeRandomFile } from '../helpers/files.ts';
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
): Promise<{ daemon: CliProcess; dht: number; files: number; control: number }> {
  const downloads = await makeTempDir();
  const daemon = runCli(
    'peer',
    [
      'dht',
      '--dir',
      downloads,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--dht-port',
      '0',
      '--control',
      '0',
      ...args,
    ],
    { cwd },
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

  it('refuses bad options with one clear sentence', async () => {
    const cwd = await makeTempDir();
    const noDir = runCli('peer', ['dht', '--control', '0'], { cwd });
    expect(await noDir.exited).toBe(2);
    expect(noDir.stderr[0]).toBe('napshare peer dht: --dir FOLDER is required.');
    const badBootstrap = runCli('peer', ['dht', '--dir', cwd, '--bootstrap', 'router.example:1'], { cwd });
    expect(await badBootstrap.exited).toBe(1);
    expect(badBootstrap.stderr.join('\n')).toMatch(/Invalid IP address "router\.example"/);
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
