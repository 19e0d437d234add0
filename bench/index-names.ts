/**
 * The index benchmark's population, the same in every process that builds it from one seed: who
 * shares what, and what is searched. Names look like a music and course library ("Sigur Rós -
 * Takk - 03 - Glósóli.flac", UTF-8 included, 25-60 bytes); each peer shares POPULAR_PER_PEER
 * names from a catalogue picked by popularity (Zipf), so many names are held by several peers
 * and the most popular by thousands, and the rest of its files are its own.
 */
import { seededRandom } from '../test/helpers/seed.ts';

/** Names in the shared catalogue; a peer's popular picks come from here. */
export const CATALOGUE_NAMES = 20_000;
/** Of a peer's files, how many come from the catalogue (the rest are its own). */
export const POPULAR_PER_PEER = 25;
/** Zipf exponent of the catalogue's popularity (about music downloads' 0.8-1). */
const ZIPF_EXPONENT = 0.9;
/** Distinct SEARCH requests each load connection cycles through. */
export const QUERY_COUNT = 10_000;

const ARTISTS = [
  'Miles Davis',
  'Sigur Rós',
  'Motörhead',
  'Café Tacvba',
  'Nina Simone',
  'Radiohead',
  'Björk',
  'Os Mutantes',
  'Caetano Veloso',
  'Daft Punk',
  'Aphex Twin',
  'Fela Kuti',
  'Joni Mitchell',
  'Kraftwerk',
  'Mercedes Sosa',
  'The Beatles',
  'Portishead',
  'Elis Regina',
  'Ryuichi Sakamoto',
  'Ali Farka Touré',
  'Massive Attack',
  'Jorge Ben Jor',
  'Nick Drake',
  'Stereolab',
  'Tom Zé',
  'Prof Silva',
  'Aula de Redes',
  'Cálculo II',
  'Physics 101',
  'Algoritmos',
];
const ALBUMS = [
  'Kind of Blue',
  'Takk',
  'Ace of Spades',
  'Re',
  'Pastel Blues',
  'OK Computer',
  'Homogenic',
  'Tropicália',
  'Transa',
  'Discovery',
  'Selected Ambient Works',
  'Zombie',
  'Blue',
  'Trans-Europe',
  'Misa Criolla',
  'Abbey Road',
  'Dummy',
  'Falso Brilhante',
  'Thousand Knives',
  'Talking Timbuktu',
  'Mezzanine',
  'África Brasil',
  'Pink Moon',
  'Dots and Loops',
  'Estudando o Samba',
  'Semestre 1',
];
const TITLES = [
  'So What',
  'Glósóli',
  'Intro',
  'Live at the BBC',
  'Lecture',
  'Exercícios',
  'Parte',
  'Remix',
  'Demo',
  'Session',
  'Interlude',
  'Noite',
  'Coração',
  'Street Spirit',
  'Jóga',
  'Panis et Circenses',
  'Harder Better',
  'Xtal',
  'Water No Get Enemy',
  'River',
  'Autobahn',
  'Alfonsina y el Mar',
  'Come Together',
  'Roads',
  'Atrás da Porta',
  'Riot in Lagos',
  'Teardrop',
  'Taj Mahal',
  'Pink Moon',
  'Revisão',
  'Prova',
  'Slides',
  'Notas',
  'Aula',
];
const FORMATS = ['mp3', 'flac', 'ogg', 'mp4', 'pdf', 'mkv', 'm4a', 'zip'];

function pick<T>(items: readonly T[], next: () => number): T {
  return items[Math.floor(next() * items.length)] as T;
}

function name(next: () => number, tag: string): string {
  const track = String(1 + Math.floor(next() * 19)).padStart(2, '0');
  return `${pick(ARTISTS, next)} - ${pick(ALBUMS, next)} - ${track} - ${pick(TITLES, next)} ${tag}.${pick(FORMATS, next)}`;
}

export interface Population {
  /** Each peer's files, in the order it announces them. */
  files: string[][];
  /** The SEARCHed names, hits and misses mixed. */
  queries: string[];
}

/**
 * `peers` peers with `filesPerPeer` files each. The queries: 40% catalogue names (by rank,
 * uniformly: a few very popular, most held by a handful), 50% a peer's own names, 10% names
 * nobody shares.
 */
export function population(seed: number, peers: number, filesPerPeer: number): Population {
  // The same population in the bench and its crowd process: one seed, one generator.
  const next = seededRandom(seed);
  const catalogue = Array.from({ length: CATALOGUE_NAMES }, (_, rank) => name(next, `(${rank})`));
  const weights = catalogue.map((_, rank) => 1 / (rank + 1) ** ZIPF_EXPONENT);
  const cumulative: number[] = [];
  let total = 0;
  for (const weight of weights) {
    total += weight;
    cumulative.push(total);
  }
  const popular = () => {
    const target = next() * total;
    let low = 0;
    let high = cumulative.length - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((cumulative[mid] as number) < target) low = mid + 1;
      else high = mid;
    }
    return catalogue[low] as string;
  };
  const files: string[][] = [];
  const own = Math.max(0, filesPerPeer - POPULAR_PER_PEER);
  for (let peer = 0; peer < peers; peer++) {
    const mine = new Set<string>();
    for (let k = 0; k < own; k++) mine.add(name(next, `[${peer.toString(36)}.${k}]`));
    while (mine.size < filesPerPeer) mine.add(popular());
    files.push([...mine]);
  }
  const queries: string[] = [];
  for (let i = 0; i < QUERY_COUNT; i++) {
    const kind = next();
    if (kind < 0.4) queries.push(pick(catalogue, next));
    else if (kind < 0.9) queries.push(pick(pick(files, next), next));
    else queries.push(name(next, `{missing ${i}}`));
  }
  return { files, queries };
}

/**
 * The `index`-th peer's own loopback address, 127.C.B.A with A and B in 1-254 (no .0, no .255):
 * 64,516 addresses per value of C, from C = `first`.
 */
export function peerIp(index: number, first = 10): string {
  const a = 1 + (index % 254);
  const b = 1 + (Math.floor(index / 254) % 254);
  return `127.${first + Math.floor(index / 64_516)}.${b}.${a}`;
}
