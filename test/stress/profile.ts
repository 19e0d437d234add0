/**
 * How much of each attack a run makes. `short` (the default, what CI runs after `npm test`) keeps
 * every attack and shrinks the counts that only add time; `full` (--profile full) makes the
 * counts the suite is specified with.
 */
export type ProfileName = 'short' | 'full';

export interface Profile {
  name: ProfileName;
  /** Random and mutated index-protocol frames (at least 100,000 in both profiles). */
  indexFrames: number;
  /** Random and mutated KRPC datagrams against the DHT daemon. */
  krpcDatagrams: number;
  /** Idle sockets opened against each server. */
  idleSockets: number;
  /** Slowloris sockets against each server. */
  slowlorisSockets: number;
  /** Connections in a flood (past the per-address and the server caps). */
  floodSockets: number;
  /** Clients that ask and never read. */
  nonReaders: number;
  uploaderKills: number;
  downloaderKills: number;
  indexRestarts: number;
  /** Peers re-joining the restarted index server. */
  restartPeers: number;
  /** Downloads into a disk that fills up. */
  fullDisks: number;
  /** Rounds of every hostile-uploader case, and of the final-name races. */
  hostileRounds: number;
  /** Downloads from an uploader flooded to its connection cap (half during the flood). */
  floodedDownloads: number;
  /** Longest one group of attacks may take before it counts as failed (a hang). */
  groupTimeoutMs: number;
}

export const PROFILES: Record<ProfileName, Profile> = {
  short: {
    name: 'short',
    indexFrames: 100_000,
    krpcDatagrams: 100_000,
    idleSockets: 300,
    slowlorisSockets: 40,
    floodSockets: 400,
    nonReaders: 8,
    uploaderKills: 5,
    downloaderKills: 3,
    indexRestarts: 5,
    restartPeers: 3,
    fullDisks: 2,
    hostileRounds: 2,
    floodedDownloads: 4,
    groupTimeoutMs: 5 * 60_000,
  },
  full: {
    name: 'full',
    indexFrames: 300_000,
    krpcDatagrams: 150_000,
    idleSockets: 2_000,
    slowlorisSockets: 200,
    floodSockets: 3_000,
    nonReaders: 32,
    uploaderKills: 20,
    downloaderKills: 10,
    indexRestarts: 5,
    restartPeers: 10,
    fullDisks: 6,
    hostileRounds: 3,
    floodedDownloads: 20,
    groupTimeoutMs: 20 * 60_000,
  },
};
