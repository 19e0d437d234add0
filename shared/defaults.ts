/** Defaults shared by the server and the peer (seed 003, 4e: the registry listens on 1099). */
export const DEFAULT_SERVER_HOST = '127.0.0.1';
export const DEFAULT_SERVER_PORT = 1099;
