/**
 * The web page's JSON API (docs/web.md, "API"): one route per action, every body, query and
 * parameter checked by its JSON schema before the handler runs, every failure answered as
 * `{"code","message"}` with a status that says whose fault it is. Reads are GET; whatever
 * changes something is POST (never a GET: a link or an image cannot act).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { parseIPv4 } from '../../shared/address.ts';
import { describeError, isNapError } from '../../shared/errors.ts';
import { MAX_FILE_NAME_BYTES } from '../../shared/file-names.ts';
import { MAX_ALIAS_CHARS, MAX_CHAT_TEXT_BYTES } from '../../shared/index-protocol.ts';
import type { WebPeer } from './web-peer.ts';

/** A folder path typed in the page: longer than any path a system accepts is refused. */
const MAX_FOLDER_CHARS = 4096;

const fileName = { type: 'string', minLength: 1, maxLength: MAX_FILE_NAME_BYTES } as const;
/** `IP:port`, checked again by parseHostPort. */
const address = { type: 'string', minLength: 9, maxLength: 21, pattern: '^[0-9.]+:[0-9]+$' } as const;
const idParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  // Parameters are text: a download id is 1 to 9 digits, no sign, no leading zero.
  properties: { id: { type: 'string', pattern: '^[1-9][0-9]{0,8}$' } },
} as const;

/** Who is at fault, by error code: the request (4xx), or the network it reached (502/504). */
const STATUS: Partial<Record<string, number>> = {
  BAD_REQUEST: 400,
  BAD_ARGUMENT: 400,
  UNSAFE_NAME: 400,
  NOT_A_FOLDER: 400,
  NOT_FOUND: 404,
  NOT_JOINED: 409,
  NO_SEARCH: 409,
  IN_PROGRESS: 409,
  EXISTS: 409,
  ALIAS_TAKEN: 409,
  ADDRESS_IN_USE: 409,
  BUSY: 429,
  CONNECT_FAILED: 502,
  CONNECTION_CLOSED: 502,
  PROTOCOL: 502,
  TIMEOUT: 504,
};

export function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send({ code, message });
}

export function registerRoutes(app: FastifyInstance, peer: WebPeer): void {
  app.setErrorHandler((error, _request, reply) => {
    if (isNapError(error)) return sendError(reply, STATUS[error.code] ?? 422, error.code, error.message);
    const failure = error as { validation?: unknown; statusCode?: number; message: string };
    if (failure.validation)
      return sendError(reply, 400, 'BAD_REQUEST', `Invalid request: ${failure.message}.`);
    // fastify's own refusals (a body too large, a content type it does not parse).
    if (failure.statusCode !== undefined && failure.statusCode < 500)
      return sendError(reply, failure.statusCode, 'BAD_REQUEST', describeError(error));
    return sendError(reply, 500, 'INTERNAL', `napshare failed: ${describeError(error)}`);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      404,
      'NOT_FOUND',
      `No such page or API route: ${request.method} ${request.url.split('?')[0]}.`,
    ),
  );

  app.get('/api/state', async () => peer.snapshot());

  app.post<{ Body: { ip: string; port: number; folder: string } }>(
    '/api/join',
    {
      schema: {
        body: {
          type: 'object',
          required: ['ip', 'port', 'folder'],
          additionalProperties: false,
          properties: {
            ip: { type: 'string', minLength: 7, maxLength: 15 },
            port: { type: 'integer', minimum: 0, maximum: 65535 },
            folder: { type: 'string', minLength: 1, maxLength: MAX_FOLDER_CHARS },
          },
        },
      },
    },
    async (request) => {
      const { ip, port, folder } = request.body;
      return { joined: await peer.join(parseIPv4(ip), port, folder) };
    },
  );

  app.post<{ Body: { file: string } }>(
    '/api/search',
    {
      schema: {
        body: {
          type: 'object',
          required: ['file'],
          additionalProperties: false,
          properties: { file: fileName },
        },
      },
    },
    async (request) => ({ search: await peer.search(request.body.file) }),
  );

  app.post<{ Body: { file: string; from: string } }>(
    '/api/downloads',
    {
      schema: {
        body: {
          type: 'object',
          required: ['file', 'from'],
          additionalProperties: false,
          properties: { file: fileName, from: { anyOf: [{ const: 'all' }, address] } },
        },
      },
    },
    async (request, reply) => {
      const id = peer.startDownload(request.body.file, request.body.from);
      return reply.code(202).send({ id });
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/downloads/:id/cancel',
    { schema: { params: idParams } },
    async (request) => ({ download: peer.cancel(Number(request.params.id)) }),
  );

  app.post<{ Params: { id: string } }>(
    '/api/downloads/:id/resume',
    { schema: { params: idParams } },
    async (request, reply) => reply.code(202).send({ download: peer.resume(Number(request.params.id)) }),
  );

  app.post<{ Body: { alias: string } }>(
    '/api/chat/alias',
    {
      schema: {
        body: {
          type: 'object',
          required: ['alias'],
          additionalProperties: false,
          properties: { alias: { type: 'string', minLength: 1, maxLength: MAX_ALIAS_CHARS * 2 } },
        },
      },
    },
    async (request) => ({ alias: await peer.setAlias(request.body.alias) }),
  );

  app.post<{ Body: { text: string } }>(
    '/api/chat/messages',
    {
      schema: {
        body: {
          type: 'object',
          required: ['text'],
          additionalProperties: false,
          properties: { text: { type: 'string', minLength: 1, maxLength: MAX_CHAT_TEXT_BYTES } },
        },
      },
    },
    async (request) => ({ delivered: await peer.chat.say(request.body.text) }),
  );

  app.get('/api/chat/peers', async () => ({ peers: await peer.chat.peers() }));

  app.get<{ Querystring: { file: string; token?: string } }>(
    '/api/chat/query',
    {
      schema: {
        querystring: {
          type: 'object',
          required: ['file'],
          additionalProperties: false,
          properties: { file: fileName, token: { type: 'string' } },
        },
      },
    },
    async (request) => peer.chat.query(request.query.file),
  );
}
