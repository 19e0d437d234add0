/** Binding a TCP server, with the one error people hit most (a taken port) made clear. */
import type net from 'node:net';
import { NapError } from '../shared/errors.ts';

export function listen(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(bindError(error, host, port));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port, exclusive: true });
  });
}

export function bindError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  switch (error.code) {
    case 'EADDRINUSE':
      return new NapError(
        'ADDRESS_IN_USE',
        `Port ${port} on ${host} is already in use; choose another port.`,
        { cause: error },
      );
    case 'EADDRNOTAVAIL':
      return new NapError('ADDRESS_IN_USE', `Address ${host} is not an address of this machine.`, {
        cause: error,
      });
    case 'EACCES':
      return new NapError(
        'ADDRESS_IN_USE',
        `Not allowed to listen on ${host}:${port} (ports below 1024 need privileges).`,
        { cause: error },
      );
    default:
      return error;
  }
}
