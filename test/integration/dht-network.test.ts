/**
 * A private Mainline DHT of 20 napshare daemons in this process, all on 127.0.0.1 with port 0:
 * publish on one, search and get from another, keyword search, clean, and publish before any node
 * is known. Every step awaits its answer; nothing sleeps.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DhtDaemon } from '../../peer/dht/daemon.ts';
import { makeTempDir, removeTempDirs, sha256File, writeRandomFile } from '../helpers/files.ts';
import { ControlClient, startNetwork } from './dht-helpers.ts';

const NODES = 20;
let network: DhtDaemon[] = [];
const others: DhtDaemon[] = [];

beforeAll(async () => {
  network = await startNetwork(NODES, { controlPort: 0 });
});

afterAll(async () => {
  await Promise.all([...network, ...others].map((daemon) => daemon.close()));
  await removeTempDirs();
});

function daemon(index: number): DhtDaemon {
  return network[index] as DhtDaemon;
}

async function run(index: number, line: string): Promise<string[]> {
  return (await daemon(index).run(line)).lines;
}

function holder(index: number): string {
  return `127.0.0.1:${daemon(index).fileServer.port}`;
}

describe('a private DHT of 20 daemons', () => {
  it('every node joined the routing tables', () => {
    for (const node of network) expect(node.node.nodeCount).toBeGreaterThan(0);
    // The first node was contacted by all the others.
    expect(daemon(0).node.nodeCount).toBe(NODES - 1);
  });

  it('publishes on one node; another finds it by name and downloads it (SHA-256 equal)', async () => {
    const shared = await makeTempDir();
    const digest = await writeRandomFile(path.join(shared, 'Aula 1 Redes.bin'), 300_000);
    await writeRandomFile(path.join(shared, 'notes.txt'), 1000);
    await fs.mkdir(path.join(shared, 'a folder is not published'));

    expect(await run(7, `publish ${shared}`)).toEqual([`Published 2 files from ${shared}.`]);

    expect(await run(15, 'search Aula 1 Redes.bin')).toEqual([
      'Aula 1 Redes.bin found.',
      `${holder(7)} Aula 1 Redes.bin`,
    ]);
    const got = await run(15, 'get Aula 1 Redes.bin');
    const saved = path.join(daemon(15).dir, 'Aula 1 Redes.bin');
    expect(got).toEqual([`Downloaded Aula 1 Redes.bin (300 kB) from ${holder(7)} to ${saved}`]);
    expect(await sha256File(saved)).toBe(digest);
    // Already there: no second download, and the answer says why.
    expect(await run(15, 'get Aula 1 Redes.bin')).toEqual([
      'Aula 1 Redes.bin is already in the folder; remove it first to download it again.',
    ]);
  });

  it('finds files by a word of their name, on every holder, whatever the case', async () => {
    const shared = await makeTempDir();
    await writeRandomFile(path.join(shared, 'Redes 2.pdf'), 2000);
    expect(await run(11, `publish ${shared}`)).toEqual([`Published 1 file from ${shared}.`]);

    const expected = [`${holder(7)} Aula 1 Redes.bin`, `${holder(11)} Redes 2.pdf`].sort(
      (a, b) => Number(a.split(/[: ]/)[1]) - Number(b.split(/[: ]/)[1]),
    );
    expect(await run(3, 'search redes')).toEqual(['redes found.', ...expected]);
    expect(await run(19, 'search REDES')).toEqual(['REDES found.', ...expected]);
    expect(await run(0, 'search notes')).toEqual(['notes found.', `${holder(7)} notes.txt`]);
    expect(await run(0, 'search nothing-like-this')).toEqual(['Cannot find nothing-like-this']);
    // A word is a whole word: "rede" is not "redes".
    expect(await run(0, 'search rede')).toEqual(['Cannot find rede']);
  });

  it('clean: the holder stops confirming at once; search --all still shows the stale DHT entry', async () => {
    const cleaned = await run(11, 'clean');
    expect(cleaned[0]).toBe('Removed 1 file.');
    expect(cleaned[1]).toMatch(/^The DHT has no delete: other nodes forget these entries within 40 min/);
    expect(await run(11, 'status')).toContain('Published: 0 files under 0 keys');
    expect(await run(11, 'status')).toContain('Not announced yet: 0 keys');

    expect(await run(5, 'search redes')).toEqual(['redes found.', `${holder(7)} Aula 1 Redes.bin`]);
    expect(await run(5, 'search --all redes')).toEqual([
      'redes found.',
      `${holder(7)} Aula 1 Redes.bin`,
      `${holder(11)} ?`,
    ]);
    expect(await run(5, 'search Redes 2.pdf')).toEqual(['Cannot find Redes 2.pdf']);
    expect(await run(5, 'get Redes 2.pdf')).toEqual(['Cannot find Redes 2.pdf']);
  });

  it('get NAME IP:PORT downloads from the given holder', async () => {
    const shared = await makeTempDir();
    const digest = await writeRandomFile(path.join(shared, 'direct.bin'), 50_000);
    await run(2, `publish ${shared}`);
    const answer = await run(9, `get direct.bin ${holder(2)}`);
    expect(answer[0]).toMatch(new RegExp(`^Downloaded direct\\.bin \\(50\\.0 kB\\) from ${holder(2)} to `));
    expect(await sha256File(answer[0]?.split(' to ')[1] as string)).toBe(digest);
  });

  it('one of them driven through its real control socket', async () => {
    const client = await ControlClient.connect(daemon(13).control?.port as number);
    try {
      expect(await client.ask('search notes')).toEqual(['notes found.', `${holder(7)} notes.txt`]);
      const answer = await client.ask(`get notes.txt`);
      expect(answer).toEqual([
        `Downloaded notes.txt (1.00 kB) from ${holder(7)} to ${path.join(daemon(13).dir, 'notes.txt')}`,
      ]);
      expect(await client.ask('quit')).toEqual(['Bye.']);
      await client.closed;
    } finally {
      client.close();
    }
  });

  it('status: node id, routing table, published files', async () => {
    const status = await run(7, 'status');
    expect(status[0]).toBe(`Node id ${daemon(7).node.id}`);
    expect(status[0]).toMatch(/^Node id [0-9a-f]{40}$/);
    expect(status[1]).toBe(
      `DHT port ${daemon(7).node.port} (UDP), file server port ${daemon(7).fileServer.port} (TCP)`,
    );
    expect(status[2]).toMatch(/^Routing table: \d+ nodes$/);
    // Aula 1 Redes.bin: name, aula, 1, redes, bin; notes.txt: name, notes, txt.
    expect(status.slice(4)).toEqual([
      'Published: 2 files under 8 keys',
      'Not announced yet: 0 keys',
      '  Aula 1 Redes.bin',
      '  notes.txt',
    ]);
  });
});

describe('publish before any DHT node is known', () => {
  it('announces as soon as the first node shows up', async () => {
    const [lonely] = await startNetwork(1);
    others.push(lonely as DhtDaemon);
    const shared = await makeTempDir();
    await writeRandomFile(path.join(shared, 'early.bin'), 1000);
    expect(await (lonely as DhtDaemon).run(`publish ${shared}`)).toEqual({
      lines: [`Published 1 file from ${shared}; no DHT node known yet, announced as soon as one is.`],
    });
    expect((await (lonely as DhtDaemon).run('status')).lines.slice(4, 6)).toEqual([
      'Published: 1 file under 3 keys',
      'Not announced yet: 3 keys (waiting for a first DHT node)',
    ]);

    const newcomer = await DhtDaemon.start({
      dir: await makeTempDir(),
      host: '127.0.0.1',
      port: 0,
      dhtPort: 0,
      controlPort: null,
      bootstrap: { kind: 'nodes', nodes: [{ host: '127.0.0.1', port: (lonely as DhtDaemon).node.port }] },
    });
    others.push(newcomer);
    await newcomer.node.ready;
    // The newcomer's first query put it in the lonely node's table, which started announcing.
    expect((lonely as DhtDaemon).publisher.waiting).toBe(false);
    await (lonely as DhtDaemon).publisher.idle();
    expect((await newcomer.run('search early')).lines).toEqual([
      'early found.',
      `127.0.0.1:${(lonely as DhtDaemon).fileServer.port} early.bin`,
    ]);
  });
});
