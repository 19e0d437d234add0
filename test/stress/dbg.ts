import net from 'node:net';
import { IndexServer } from '../../server/index-server.ts';

const server = await IndexServer.start({ host: '127.0.0.1', port: 0, print: () => {} });
const port = server.address().port;
const s = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.66' });
await new Promise((r) => s.once('connect', r));
let text = '';
s.on('data', (c) => {
  text += c.toString();
});
s.on('error', (e) => console.log('err', e.message));
const small = '{"type":"LIST"}\n'.repeat(5);
s.write(
  Buffer.concat([
    Buffer.from(small),
    Buffer.from('{"type":"JOIN","files":["'),
    Buffer.alloc(1024 * 1024 + 100, 'w'),
    Buffer.from('\n'),
  ]),
);
await new Promise((r) => s.once('close', r));
console.log(text);
await server.close();
