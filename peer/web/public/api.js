/**
 * The peer's API as the page uses it: JSON requests carrying the token, and the event stream
 * every change arrives on (no polling). The token comes from the address the peer printed.
 */

export const token = new URLSearchParams(location.search).get('token') ?? '';

/** An error the peer answered, with its stable code and its sentence. */
export class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

async function call(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok)
    throw new ApiError(answer.code ?? 'HTTP', answer.message ?? `The peer answered ${response.status}.`);
  return answer;
}

export const api = {
  join: (ip, port, folder) => call('POST', '/api/join', { ip, port, folder }),
  search: (file) => call('POST', '/api/search', { file }),
  download: (file, from) => call('POST', '/api/downloads', { file, from }),
  cancel: (id) => call('POST', `/api/downloads/${id}/cancel`),
  resume: (id) => call('POST', `/api/downloads/${id}/resume`),
  setAlias: (alias) => call('POST', '/api/chat/alias', { alias }),
  say: (text) => call('POST', '/api/chat/messages', { text }),
  peers: () => call('GET', '/api/chat/peers'),
  query: (file) => call('GET', `/api/chat/query?file=${encodeURIComponent(file)}`),
};

/**
 * Opens the event stream; `handlers[name](data)` runs for each event. EventSource reconnects by
 * itself, and the peer then sends the whole state again.
 */
export function listen(handlers, onLink) {
  const source = new EventSource(`/api/events?token=${encodeURIComponent(token)}`);
  for (const [name, handle] of Object.entries(handlers))
    source.addEventListener(name, (event) => handle(JSON.parse(event.data)));
  source.addEventListener('open', () => onLink(true));
  source.addEventListener('error', () => onLink(false));
  return source;
}
