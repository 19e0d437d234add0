/**
 * The page: JOIN, the shared files, SEARCH and its results, downloads, chat. Everything it shows
 * comes from the peer's event stream; the forms call the API and say in words what happened.
 */
import { api, listen, token } from './api.js';
import { drawSpeed } from './chart.js';
import { appendChatLine, renderChat, showPeers, wireChat } from './chat.js';
import { formatBytes, formatTime, h, setText } from './dom.js';
import { renderDownloads } from './downloads.js';

const $ = (id) => document.getElementById(id);
let state = null;

/** Runs `action` when `form` is submitted; its sentence (or the error's) goes into `result`. */
function run(form, result, action) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    result.classList.remove('failed');
    setText(result, 'Working…');
    try {
      setText(result, await action());
    } catch (error) {
      result.classList.add('failed');
      setText(result, error.message);
    } finally {
      button.disabled = form.id === 'say-form' ? !state?.chat.alias : false;
    }
  });
}

function showError(error) {
  addNotice({ at: Date.now(), text: error.message });
}

function addNotice(notice) {
  const box = $('notices');
  box.append(h('p', {}, h('time', {}, formatTime(notice.at)), ` ${notice.text}`));
  while (box.children.length > 5) box.firstElementChild.remove();
}

function renderShared() {
  const { joined, shared } = state;
  if (!joined || !shared) return;
  const more = shared.total > shared.files.length ? ` (the first ${shared.files.length} listed)` : '';
  setText(
    $('shared-summary'),
    `Sharing ${shared.total} file${shared.total === 1 ? '' : 's'} at ${joined.address} from ${joined.folder}${more}.`,
  );
  $('shared-list').replaceChildren(
    ...shared.files.map((file) =>
      h('li', {}, h('span', { class: 'name' }, file.name), ` ${formatBytes(file.size)}`),
    ),
  );
}

function renderSearch() {
  const box = $('search-peers');
  const search = state.search;
  if (!search) return box.replaceChildren();
  const others = search.peers.filter((peer) => !peer.you);
  const start = (from) => api.download(search.file, from).catch(showError);
  const rows = search.peers.map((peer) => {
    const badge = peer.verified ? 'verified (gives piece hashes)' : 'unverified (gives no piece hashes)';
    const button = h(
      'button',
      { type: 'button', 'aria-label': `Download ${search.file} from ${peer.address}` },
      'Download from this peer',
    );
    button.addEventListener('click', () => start(peer.address));
    button.disabled = peer.you;
    return h(
      'li',
      {},
      h('span', { class: 'address' }, peer.address),
      ` ${peer.you ? 'you' : badge} `,
      button,
    );
  });
  const all = h('button', { type: 'button', class: 'all' }, `Download from all ${others.length} peers`);
  all.addEventListener('click', () => start('all'));
  all.hidden = others.length < 2;
  box.replaceChildren(
    h('p', {}, search.peers.length === 0 ? `Nobody shares ${search.file}.` : `Peers with ${search.file}:`),
    h('ul', { class: 'peers', 'aria-label': `Peers with ${search.file}` }, ...rows),
    all,
  );
}

function render() {
  renderShared();
  renderSearch();
  renderDownloads(state.downloads, showError);
  renderChat(state.chat, state.joined);
  drawSpeed(state.speed);
  if (state.joined) $('join-folder').placeholder = state.joined.folder;
}

function start() {
  if (!token) {
    setText(
      $('link-status'),
      'This address has no token: open the address the peer printed (it ends with ?token=...).',
    );
    return;
  }
  run($('join-form'), $('join-result'), async () => {
    const { joined } = await api.join(
      $('join-ip').value.trim(),
      Number($('join-port').value),
      $('join-folder').value,
    );
    return `Joined: sharing ${joined.folder} at ${joined.address}.`;
  });
  run($('search-form'), $('search-result'), async () => {
    const { search } = await api.search($('search-file').value.trim());
    const n = search.peers.length;
    return n === 0
      ? `Nobody shares ${search.file}.`
      : `${n} peer${n === 1 ? '' : 's'} share${n === 1 ? 's' : ''} ${search.file}.`;
  });
  wireChat(run);
  listen(
    {
      state: (next) => {
        state = next;
        setText($('link-status'), `Connected to the peer · index server ${state.server}.`);
        render();
        if (state.chat.alias) showPeers().catch(() => {});
      },
      downloads: (downloads) => {
        if (!state) return;
        state.downloads = downloads;
        renderDownloads(downloads, showError);
      },
      speed: drawSpeed,
      chat: (line) => {
        state?.chat.lines.push(line);
        appendChatLine(line);
        if (line.kind === 'left' && state?.chat.alias) showPeers().catch(() => {});
      },
      notice: addNotice,
    },
    (open) => {
      if (!open) setText($('link-status'), 'The peer is not reachable; trying again…');
      document.body.dataset.link = open ? 'open' : 'lost';
    },
  );
}

start();
