/**
 * Every line napshare prints on stdout for the course (seed 003, section 6; docs/design.md, "The
 * console contract"). They are graded line by line: one home, exact words, a single space between items,
 * nothing after the last word when a list is empty.
 */

function withList(prefix: string, items: readonly string[]): string {
  return items.length === 0 ? prefix : `${prefix} ${items.join(' ')}`;
}

/** Server, on JOIN (seed 003, 6): `Peer [IP]:[porta] adicionado com arquivos [arquivos]`. */
export function serverJoinLine(address: string, files: readonly string[]): string {
  return withList(`Peer ${address} adicionado com arquivos`, files);
}

/** Server, on SEARCH (seed 003, 6): `Peer [IP]:[porta] solicitou arquivo [arquivo]`. */
export function serverSearchLine(address: string, file: string): string {
  return `Peer ${address} solicitou arquivo ${file}`;
}

/** Peer, on JOIN_OK (seed 003, 6): `Sou peer [IP]:[porta] com arquivos [arquivos]`. */
export function peerJoinLine(address: string, files: readonly string[]): string {
  return withList(`Sou peer ${address} com arquivos`, files);
}

/** Peer, on the SEARCH reply (seed 003, 6): `peers com arquivo solicitado: [IP:porta ...]`. */
export function peerSearchLine(peers: readonly string[]): string {
  return withList('peers com arquivo solicitado:', peers);
}

/** Peer, when a download is complete (seed 003, 6); `folder` exactly as the user typed it. */
export function peerDownloadLine(file: string, folder: string): string {
  return `Arquivo ${file} baixado com sucesso na pasta ${folder}`;
}
