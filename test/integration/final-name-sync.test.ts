/**
 * The final name survives a power cut: once a download's file is linked under its name (or, without
 * hard links, renamed there) and the `.part` name dropped, the folder itself is fsynced, since the
 * names live in it and the file's own fdatasync does not flush them. Checked on the system calls
 * of the real CLI (strace), not on a mock of fs.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { syncFolderOf } from '../../peer/transfer/folder-sync.ts';
import { CliProcess, killAll, programCommand } from '../helpers/cli.ts';
import { makeTempDir, removeTempDirs, sha256File } from '../helpers/files.ts';
import { startIndexAndUploader } from '../helpers/index-and-uploader.ts';
import { folderSyncAfter, pathsOf, quoted, readTrace, straceCommand } from '../helpers/strace.ts';

const MiB = 1024 * 1024;
const HERE = path.dirname(fileURLToPath(import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const SYSCALLS = [
  'openat',
  'close',
  'fsync',
  'fdatasync',
  'link',
  'linkat',
  'unlink',
  'unlinkat',
  'rename',
  'renameat',
  'renameat2',
];
const closers: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  await killAll();
  for (const close of closers.splice(0).reverse()) await close();
  await removeTempDirs();
});

/** Runs `command` under strace as a CliProcess; its trace is read once it exits. */
async function traced(command: string[], cwd: string) {
  const traceFile = path.join(await makeTempDir('napshare-trace-'), 'trace');
  const [program, ...args] = [...straceCommand(traceFile, SYSCALLS), ...command] as [string, ...string[]];
  const cli = new CliProcess(
    spawn(program, args, { cwd, env: { ...process.env, INIT_CWD: undefined, NO_COLOR: '1' }, stdio: 'pipe' }),
  );
  return { cli, trace: () => readTrace(traceFile) };
}

describe('the folder is fsynced once the final name is taken', () => {
  it('a DOWNLOAD of the CLI: an fsync of the folder after the link of the name and the unlink of the .part', async () => {
    const { server, uploaderPort, sha } = await startIndexAndUploader(closers, {
      name: 'a.bin',
      size: 5 * MiB + 7,
    });
    const into = await makeTempDir();
    const final = path.join(into, 'a.bin');
    const { cli, trace } = await traced(
      [...programCommand('peer'), '--server', `127.0.0.1:${server.port}`],
      into,
    );
    cli.send(`JOIN 127.0.0.1 0 ${into}`);
    cli.send('SEARCH a.bin');
    cli.send(`DOWNLOAD 127.0.0.1 ${uploaderPort}`);
    await cli.waitFor(`Arquivo a.bin baixado com sucesso na pasta ${into}`);
    expect(await cli.end()).toBe(0);
    expect(await sha256File(final)).toBe(sha);

    const calls = await trace();
    const link = calls.find(
      (call) =>
        (call.name === 'link' || call.name === 'linkat') &&
        call.result === 0 &&
        pathsOf(call).join(' ') === `${quoted(`${final}.part`)} ${quoted(final)}`,
    );
    expect(link, 'the linkat of a.bin.part to a.bin').toBeDefined();
    const unlink = calls.find(
      (call) =>
        call.name.startsWith('unlink') &&
        call.result === 0 &&
        pathsOf(call).join(' ') === quoted(`${final}.part`),
    );
    expect(unlink, 'the unlink of a.bin.part').toBeDefined();
    const linked = Math.max(link?.returned ?? 0, unlink?.returned ?? 0);
    expect(folderSyncAfter(calls, into, linked), `an fsync of ${into} after both`).toBeDefined();
  });

  it('without hard links: an fsync of the folder after the rename of the .part over the name', async () => {
    const into = await makeTempDir();
    const part = path.join(into, 'b.bin.part');
    const final = path.join(into, 'b.bin');
    await fs.writeFile(part, 'complete');
    const helper = path.join(HERE, '..', 'helpers', 'claim-name.ts');
    const { cli, trace } = await traced([process.execPath, '--import', TSX, helper, part, final], into);
    await cli.waitFor('claimed');
    expect(await cli.end()).toBe(0);
    expect(await fs.readFile(final, 'utf8')).toBe('complete');

    const calls = await trace();
    const renamed = calls.find(
      (call) =>
        call.name.startsWith('rename') &&
        call.result === 0 &&
        pathsOf(call).join(' ') === `${quoted(part)} ${quoted(final)}`,
    );
    expect(renamed, 'the rename of b.bin.part over b.bin').toBeDefined();
    expect(
      folderSyncAfter(calls, into, renamed?.returned ?? 0),
      `an fsync of ${into} after it`,
    ).toBeDefined();
  });
});

describe('a folder that cannot be fsynced', () => {
  it('on a file system without folder sync (procfs gives EINVAL), the name stands: no failure', async () => {
    await expect(syncFolderOf('/proc/self/status')).resolves.toBeUndefined();
  });

  it('a folder gone is said as such (ENOENT, which the download says is FOLDER_GONE)', async () => {
    const gone = path.join(await makeTempDir(), 'gone', 'a.bin');
    await expect(syncFolderOf(gone)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
