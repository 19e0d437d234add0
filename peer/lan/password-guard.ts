/**
 * Password-protected downloads (seed 001, II: "s'authentifie avec le mot de passe"; extensions:
 * "protéger chaque fichier avec un mot de passe différent"), without the password ever crossing
 * the network: the file server sends a fresh random nonce (AUTH_CHALLENGE) and the client answers
 * with HMAC-SHA256 keyed by the password over the nonce and the file name (AUTH). The server
 * compares in constant time; wrong answers are slowed down per address (auth-throttle.ts).
 * docs/protocol.md, "LAN mode", gives the exact bytes.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { describeError, isNapError, NapError } from '../../shared/errors.ts';
import { type Log, silentLog } from '../../shared/log.ts';
import { type AuthResponse, decodeAuthResponse, rejection } from '../../shared/transfer-protocol.ts';
import type { RequestGuard } from '../file-server.ts';
import type { AuthThrottle } from './auth-throttle.ts';

/** Random bytes in a nonce: 256 bits, never repeated in practice, so a proof cannot be replayed. */
export const NONCE_BYTES = 32;
/** The client answers a challenge at once (it computes one HMAC); a silent one is cut. */
export const AUTH_ANSWER_TIMEOUT_MS = 10_000;
/** Ties a proof to napshare's LAN mode and this version of it (domain separation). */
export const PROOF_CONTEXT = 'napshare-lan-auth-v1';

/**
 * The proof for `file` under `password` and the server's `nonce` (lower-case hex): HMAC-SHA256,
 * key = UTF-8 password, message = UTF-8 `napshare-lan-auth-v1\n<nonce>\n<file>`; 64 hex digits.
 */
export function authProof(password: string, nonce: string, file: string): string {
  if (!/^(?:[0-9a-f]{2}){16,64}$/.test(nonce))
    throw new NapError('PROTOCOL', 'The peer sent a challenge that is not 16 to 64 bytes of lower-case hex.');
  return createHmac('sha256', Buffer.from(password, 'utf8'))
    .update(`${PROOF_CONTEXT}\n${nonce}\n${file}`, 'utf8')
    .digest('hex');
}

/** True when `proof` (64 hex digits) is the right one; constant time in the proof's content. */
export function proofMatches(password: string, nonce: string, file: string, proof: string): boolean {
  const expected = Buffer.from(authProof(password, nonce, file), 'hex');
  const given = Buffer.from(proof, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface PasswordGuardOptions {
  /** The password of an offered file, undefined when the name is not offered. */
  passwordFor(file: string): string | undefined;
  throttle: AuthThrottle;
  log?: Log;
}

/**
 * The file server's guard: DOWNLOAD and INFO of an offered file need a proof of its password.
 * LIST passes (offered names are announced to the whole group anyway); a name not offered passes
 * too, and the server answers NOT_FOUND.
 */
export function createPasswordGuard(options: PasswordGuardOptions): RequestGuard {
  const log = options.log ?? silentLog;
  return async (request, exchange) => {
    if (request.type === 'LIST') return null;
    const password = options.passwordFor(request.file);
    if (password === undefined) return null;
    const nonce = randomBytes(NONCE_BYTES).toString('hex');
    exchange.send({ type: 'AUTH_CHALLENGE', nonce });
    let answer: AuthResponse;
    try {
      answer = decodeAuthResponse(await exchange.nextLine(AUTH_ANSWER_TIMEOUT_MS));
    } catch (error) {
      // A closed or silent connection is the server's to drop; a garbled answer gets a reply.
      if (!isNapError(error, 'BAD_REQUEST')) throw error;
      return rejection('BAD_REQUEST', `expected an AUTH answer: ${describeError(error)}`);
    }
    const verdict = await options.throttle.judge(exchange.remoteAddress, () =>
      proofMatches(password, nonce, request.file, answer.proof),
    );
    switch (verdict) {
      case 'OK':
        return null;
      case 'FAILED':
        log(`${exchange.remoteAddress}: wrong password for ${request.file}`);
        return rejection('AUTH_FAILED', `wrong password for ${request.file}`);
      case 'THROTTLED':
        log(`${exchange.remoteAddress}: too many password attempts at once`);
        return {
          type: 'DOWNLOAD_REJECTED',
          reason: 'THROTTLED',
          message: 'too many password attempts from your address at once; try again in a few seconds',
        };
    }
  };
}
