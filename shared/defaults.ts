/** Defaults shared by the server and the peer. */
export const DEFAULT_SERVER_HOST = '127.0.0.1';
/** The registry's port (seed 003, 4e: "A porta default ... será a 1099"). */
export const DEFAULT_SERVER_PORT = 1099;
