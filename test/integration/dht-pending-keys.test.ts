/**
 * Keys no node took are not left behind. A daemon restarted at the same address knows one node,
 * which answers but refuses every announce (test/helpers/krpc-stub-node.ts): its publish reports
 * keys not announced, and status counts them. Then napshare nodes appear: the daemon announces
 * the pending keys by itself (a backoff of seconds, shortened here), or at once when `publish`
 * is run again. Every wait has a deadline; nothing sleeps.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DhtDaemon, type DhtDaemonOptions } from '../../peer/dht/daemon.ts';
import { makeTempDir, removeTempDirs, writeRandomFile } from '../helpers/files.ts';
import { KrpcStubNode } from '../helpers/krpc-stub-node.ts';
import { waitUntil } from '../helpers/wait.ts';

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((item) => item.close()));
  await removeTempDirs();
});

async function daemonAt(dhtPort: number, bootstrapPort: number, options: Partial<DhtDaemonOptions> = {}) {
  const daemon = await DhtDaemon.start({
    dir: await makeTempDir('napshare-dht-'),
    host: '127.0.0.1',
    port: 0,
    dhtPort,
    controlPort: null,
    bootstrap: { kind: 'nodes', nodes: [{ host: '127.0.0.1', port: bootstrapPort }] },
    queryTimeoutMs: 500,
    ...options,
  });
  opened.push(daemon);
  await daemon.node.ready;
  return daemon;
}

/** A daemon restarted at its former DHT address, whose only node takes no announce. */
async function restartedBehindRefusingNode(options: Partial<DhtDaemonOptions>) {
  const stub = await KrpcStubNode.start();
  opened.push(stub);
  const firstLife = await daemonAt(0, stub.port);
  const port = firstLife.node.port;
  await firstLife.close();
  const daemon = await daemonAt(port, stub.port, options);
  expect(daemon.node.port).toBe(port);
  expect(daemon.node.nodeCount).toBe(1);
  const shared = await makeTempDir();
  for (const name of ['Aula 1 Redes.mp4', 'notes.txt', 'slides.pdf'])
    await writeRandomFile(path.join(shared, name), 2000);
  return { stub, daemon, shared };
}

async function statusLine(daemon: DhtDaemon, prefix: string): Promise<string | undefined> {
  return (await daemon.run('status')).lines.find((line) => line.startsWith(prefix));
}

describe('keys no node took', () => {
  it('are announced without anyone asking once nodes appear', async () => {
    const { stub, daemon, shared } = await restartedBehindRefusingNode({
      retryFirstMs: 200,
      retryMaxMs: 1000,
    });
    const published = (await daemon.run(`publish ${shared}`)).lines;
    expect(published[0]).toBe(`Published 3 files from ${shared}.`);
    // Aula 1 Redes.mp4: 5 keys (name, aula, 1, redes, mp4); notes.txt and slides.pdf: 3 each.
    expect(published[1]).toMatch(
      /^11 keys not announced yet \(no node took them\); tried again in \d+ ms, then at least every 1 s until they are\.$/,
    );
    expect(stub.refusedAnnounces).toBeGreaterThan(0);
    expect(await statusLine(daemon, 'Not announced yet:')).toMatch(
      /^Not announced yet: 11 keys \((next try in|being announced)/,
    );

    // Nodes appear: two napshare daemons join the network through the restarted one.
    const first = await daemonAt(0, daemon.node.port);
    const second = await daemonAt(0, daemon.node.port);
    await waitUntil(() => daemon.publisher.pendingCount === 0, 'every pending key is announced', 30_000);
    expect(await statusLine(daemon, 'Not announced yet:')).toBe('Not announced yet: 0 keys');
    const holder = `127.0.0.1:${daemon.fileServer.port}`;
    expect((await second.run('search redes')).lines).toEqual(['redes found.', `${holder} Aula 1 Redes.mp4`]);
    expect((await first.run('search slides.pdf')).lines).toEqual([
      'slides.pdf found.',
      `${holder} slides.pdf`,
    ]);
  });

  it('are retried at once by publishing again', async () => {
    // No retry within the test: only the second publish can announce them.
    const { daemon, shared } = await restartedBehindRefusingNode({
      retryFirstMs: 3_600_000,
      retryMaxMs: 3_600_000,
    });
    expect((await daemon.run(`publish ${shared}`)).lines[1]).toMatch(/^11 keys not announced yet/);
    const first = await daemonAt(0, daemon.node.port);
    expect(daemon.node.nodeCount).toBe(2);
    expect(daemon.publisher.pendingCount).toBe(11);
    expect(await statusLine(daemon, 'Not announced yet:')).toBe(
      'Not announced yet: 11 keys (next try in 60 min)',
    );

    expect((await daemon.run(`publish ${shared}`)).lines).toEqual([`Published 3 files from ${shared}.`]);
    expect(daemon.publisher.pendingCount).toBe(0);
    const holder = `127.0.0.1:${daemon.fileServer.port}`;
    expect((await first.run('search notes')).lines).toEqual(['notes found.', `${holder} notes.txt`]);
  });
});
