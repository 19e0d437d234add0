/**
 * The course test of seed 003 (section 7) as line commands: the three peers' folders, the steps
 * each peer types, and the lines each peer's terminal must then show. Shared by the one-server and
 * the shared-store runs so both play exactly the same course.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { CliProcess } from './cli.ts';
import { writeRandomFile } from './files.ts';

export interface CoursePorts {
  port1: number;
  port2: number;
  port3: number;
}

/** Makes peer1..peer3 under `root` (aula1.mp4 and aula2.mp4 in peer1, aula3.mp4 in peer3); the SHA-256 of aula1.mp4. */
export async function prepareCourse(root: string): Promise<string> {
  for (const dir of ['peer1', 'peer2', 'peer3']) await fs.mkdir(path.join(root, dir));
  const original = await writeRandomFile(path.join(root, 'peer1', 'aula1.mp4'), 3 * 1024 * 1024 + 17);
  await writeRandomFile(path.join(root, 'peer1', 'aula2.mp4'), 1000);
  await writeRandomFile(path.join(root, 'peer3', 'aula3.mp4'), 10);
  return original;
}

/** The course's steps: three JOINs, SEARCHes, two DOWNLOADs (peer 3 from peer 2, which got it first). */
export async function playCourse([p1, p2, p3]: [CliProcess, CliProcess, CliProcess]): Promise<CoursePorts> {
  const portOf = (line: string) => Number(/127\.0\.0\.1:(\d+)/.exec(line)?.[1]);
  // Folders typed as a student would, relative and with a trailing separator.
  p1.send(`JOIN 127.0.0.1 0 peer1${path.sep}`);
  const port1 = portOf(await p1.waitFor('Sou peer'));
  p2.send(`JOIN 127.0.0.1 0 peer2${path.sep}`);
  const port2 = portOf(await p2.waitFor('Sou peer'));
  p3.send('JOIN 127.0.0.1 0 peer3');
  const port3 = portOf(await p3.waitFor('Sou peer'));

  p2.send('SEARCH naoexiste.mp4');
  await p2.waitFor('peers com arquivo solicitado:');
  p2.send('SEARCH aula1.mp4');
  await p2.waitFor(`peers com arquivo solicitado: 127.0.0.1:${port1}`);
  p2.send(`DOWNLOAD 127.0.0.1 ${port1}`);
  await p2.waitFor('Arquivo aula1.mp4');
  // Peer 2's UPDATE is in the index (through its own server, when each peer has one).
  p3.send('SEARCH aula1.mp4');
  await p3.waitFor('peers com arquivo solicitado:');
  p3.send(`DOWNLOAD 127.0.0.1 ${port2}`);
  await p3.waitFor('Arquivo aula1.mp4');
  return { port1, port2, port3 };
}

/** The stdout lines of peers 1, 2 and 3 after playCourse, exactly. */
export function coursePeerTranscripts({ port1, port2, port3 }: CoursePorts): string[][] {
  return [
    [`Sou peer 127.0.0.1:${port1} com arquivos aula1.mp4 aula2.mp4`],
    [
      `Sou peer 127.0.0.1:${port2} com arquivos`,
      'peers com arquivo solicitado:',
      `peers com arquivo solicitado: 127.0.0.1:${port1}`,
      `Arquivo aula1.mp4 baixado com sucesso na pasta peer2${path.sep}`,
    ],
    [
      `Sou peer 127.0.0.1:${port3} com arquivos aula3.mp4`,
      `peers com arquivo solicitado: 127.0.0.1:${port1} 127.0.0.1:${port2}`,
      'Arquivo aula1.mp4 baixado com sucesso na pasta peer3',
    ],
  ];
}
