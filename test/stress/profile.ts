/**
 * How much of each attack a run makes. `full` (the default) makes the counts the suite is
 * specified with (at least 100,000 index frames and KRPC datagrams, the uploader killed 20 times
 * and the downloader 10, the index server restarted 5 times); `short` (`--profile short` or
 * STRESS_PROFILE=short, what .ci/run runs after `npm test`) keeps every attack and every check and
 * shrinks the counts that only add time, to stay within a few minutes on a 2-core machine.
 */
export type ProfileName = 'short' | 'full';

export interface Profile {
  name: ProfileName;
  /** Random and mutated index-protocol frames. */
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
    indexFrames: 20_000,
    krpcDatagrams: 20_000,
    idleSockets: 300,
    slowlorisSockets: 40,
    floodSockets: 400,
    nonReaders: 8,
    uploaderKills: 3,
    downloaderKills: 2,
    indexRestarts: 2,
    restartPeers: 3,
    fullDisks: 1,
    hostileRounds: 1,
    floodedDownloads: 2,
    groupTimeoutMs: 3 * 60_000,
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

/**
 * The profile a run uses: `--profile` when given, else STRESS_PROFILE, else `full`. Throws on
 * any other name, so a typo never runs a profile nobody asked for.
 */
export function chooseProfile(flag: string | undefined, env: string | undefined): Profile {
  const name = flag ?? (env === undefined || env === '' ? 'full' : env);
  const profile = Object.hasOwn(PROFILES, name) ? PROFILES[name as ProfileName] : undefined;
  if (!profile) throw new Error(`the profile is short or full, not ${JSON.stringify(name)}`);
  return profile;
}
