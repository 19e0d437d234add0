/**
 * Seed 002's chat in the page: the alias, the messages (pushed as they arrive), the online peers
 * and "who has this file?". Shown only when the index server offers it.
 */
import { api } from './api.js';
import { formatTime, h, setText } from './dom.js';

const $ = (id) => document.getElementById(id);
/** Chat lines shown; older ones scroll away (the peer keeps as many). */
const MAX_LINES = 200;

function lineElement(line) {
  const time = h('time', { datetime: new Date(line.at).toISOString() }, formatTime(line.at));
  if (line.kind === 'left') {
    const who = line.alias ?? '(no alias)';
    return h('p', { class: 'left' }, time, ` ${who} left (${line.address}, ${line.reason})`);
  }
  return h(
    'p',
    { class: line.own ? 'own' : 'message' },
    time,
    ' ',
    h('strong', {}, line.alias),
    h('span', { class: 'from' }, ` ${line.from}`),
    ': ',
    h('span', { class: 'text' }, line.text),
  );
}

export function appendChatLine(line) {
  const box = $('chat-lines');
  box.append(lineElement(line));
  while (box.children.length > MAX_LINES) box.firstElementChild.remove();
  box.scrollTop = box.scrollHeight;
}

/** The chat part of the state: whether it is offered, the alias, the lines kept. */
export function renderChat(chat, joined) {
  const status = $('chat-status');
  const panel = $('chat-panel');
  if (!joined || chat.offered === null) {
    setText(
      status,
      joined
        ? 'The index server could not be asked whether it offers chat.'
        : 'Join first: the chat is for peers joined to the index server.',
    );
    panel.hidden = true;
    return;
  }
  if (!chat.offered) {
    setText(status, 'This index server does not offer chat (it speaks only the course protocol).');
    panel.hidden = true;
    return;
  }
  panel.hidden = false;
  setText(status, chat.alias ? `You chat as ${chat.alias}.` : 'Choose an alias to chat.');
  const text = $('chat-text');
  text.disabled = !chat.alias;
  $('say-form').querySelector('button').disabled = !chat.alias;
  $('chat-lines').replaceChildren(...chat.lines.map(lineElement));
}

async function showPeers() {
  const { peers } = await api.peers();
  $('peer-list').replaceChildren(
    ...peers.map((peer) =>
      h(
        'li',
        {},
        h('strong', {}, peer.alias ?? '(no alias)'),
        ` ${peer.address} · ${peer.fileCount} file${peer.fileCount === 1 ? '' : 's'}${peer.you ? ' · you' : ''}`,
      ),
    ),
  );
}

/** Wires the chat's forms; `run(form, result, action)` reports success or the error in words. */
export function wireChat(run) {
  run($('alias-form'), $('alias-result'), async () => {
    const { alias } = await api.setAlias($('chat-alias').value.trim());
    await showPeers();
    return `You are ${alias}.`;
  });
  run($('say-form'), $('say-result'), async () => {
    const input = $('chat-text');
    const { delivered } = await api.say(input.value);
    input.value = '';
    input.focus();
    return delivered === 0
      ? 'Nobody else is in the chat right now.'
      : `Sent to ${delivered} peer${delivered === 1 ? '' : 's'}.`;
  });
  run($('query-form'), $('query-result'), async () => {
    const { file, holders } = await api.query($('query-file').value.trim());
    $('query-list').replaceChildren(
      ...holders.map((holder) =>
        h('li', {}, h('strong', {}, holder.alias ?? '(no alias)'), ` ${holder.address} has ${file}`),
      ),
    );
    return holders.length === 0
      ? `No peer shares ${file}.`
      : `${holders.length} peer${holders.length === 1 ? '' : 's'} share ${file}.`;
  });
  $('peers-refresh').addEventListener('click', () => showPeers().catch(() => {}));
}

export { showPeers };
