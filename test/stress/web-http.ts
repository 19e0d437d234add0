/**
 * Plain HTTP requests to the web peer (node:http, real sockets), as a well-behaved page or an
 * attacker makes them: the status and the whole body, within a deadline.
 */
import http from 'node:http';
import { withDeadline } from '../helpers/wait.ts';

export interface Answer {
  status: number;
  body: string;
}

export interface Ask {
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** A keep-alive agent holds its connection; none (the default) opens a new one. */
  agent?: http.Agent;
  localAddress?: string;
}

/** One request to 127.0.0.1:`port`; rejects on a socket error or after `timeoutMs`. */
export function ask(port: number, request: Ask, timeoutMs: number): Promise<Answer> {
  const answer = new Promise<Answer>((resolve, reject) => {
    const outgoing = http.request(
      {
        host: '127.0.0.1',
        port,
        method: request.method ?? 'GET',
        path: request.path,
        headers: request.headers,
        agent: request.agent ?? false,
        localAddress: request.localAddress,
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
  return withDeadline(answer, timeoutMs, `the answer to ${request.method ?? 'GET'} ${request.path}`);
}

/** `{"code": ...}` of an error answer, or undefined when the body is not one. */
export function errorCode(answer: Answer): string | undefined {
  try {
    const parsed = JSON.parse(answer.body) as { code?: unknown };
    return typeof parsed.code === 'string' ? parsed.code : undefined;
  } catch {
    return undefined;
  }
}
