import { describe, expect, it } from 'vitest';
import {
  peerDownloadLine,
  peerJoinLine,
  peerSearchLine,
  serverJoinLine,
  serverSearchLine,
} from '../../shared/messages.ts';

// The exact lines of seed 003, section 6 (docs/design.md, "The console contract").
describe('console contract lines', () => {
  it('server lines', () => {
    expect(serverJoinLine('127.0.0.1:8776', ['aula1.mp4', 'aula2.mp4'])).toBe(
      'Peer 127.0.0.1:8776 adicionado com arquivos aula1.mp4 aula2.mp4',
    );
    expect(serverJoinLine('127.0.0.1:8777', [])).toBe('Peer 127.0.0.1:8777 adicionado com arquivos');
    expect(serverSearchLine('127.0.0.1:8776', 'aula1.mp4')).toBe(
      'Peer 127.0.0.1:8776 solicitou arquivo aula1.mp4',
    );
  });

  it('peer lines', () => {
    expect(peerJoinLine('127.0.0.1:8776', ['aula1.mp4', 'aula2.mp4'])).toBe(
      'Sou peer 127.0.0.1:8776 com arquivos aula1.mp4 aula2.mp4',
    );
    expect(peerJoinLine('127.0.0.1:8776', [])).toBe('Sou peer 127.0.0.1:8776 com arquivos');
    expect(peerSearchLine(['127.0.0.1:8776', '127.0.0.1:8777'])).toBe(
      'peers com arquivo solicitado: 127.0.0.1:8776 127.0.0.1:8777',
    );
    expect(peerSearchLine([])).toBe('peers com arquivo solicitado:');
    expect(peerDownloadLine('aula1.mp4', 'c:\\temp\\peer2\\')).toBe(
      'Arquivo aula1.mp4 baixado com sucesso na pasta c:\\temp\\peer2\\',
    );
  });
});
