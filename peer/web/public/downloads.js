/**
 * The downloads list: one item per download, updated in place as progress arrives (so a focused
 * Cancel button keeps its focus), with its bytes, speed, ETA, sources, verified pieces, and its
 * error in words when it failed.
 */
import { api } from './api.js';
import { formatBytes, formatEta, formatRate, formatTime, h, setText } from './dom.js';

const rows = new Map();

const STATUS_WORDS = {
  running: 'downloading',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
};

function makeRow(download, onError) {
  const title = h('strong', { class: 'file' });
  const status = h('span', { class: 'badge' });
  const bar = h('progress', { max: '1', value: '0', 'aria-label': `Progress of ${download.file}` });
  const figures = h('p', { class: 'figures' });
  const detail = h('p', { class: 'detail' });
  const error = h('p', { class: 'error', role: 'alert' });
  const cancel = h('button', { type: 'button', class: 'cancel' }, 'Cancel');
  const resume = h('button', { type: 'button', class: 'resume' }, 'Resume');
  cancel.setAttribute('aria-label', `Cancel the download of ${download.file}`);
  resume.setAttribute('aria-label', `Resume the download of ${download.file}`);
  cancel.addEventListener('click', () => api.cancel(download.id).catch(onError));
  resume.addEventListener('click', () => api.resume(download.id).catch(onError));
  const item = h(
    'li',
    { class: 'download', 'data-id': download.id },
    h('div', { class: 'line' }, title, status),
    bar,
    figures,
    detail,
    error,
    h('div', { class: 'actions' }, cancel, resume),
  );
  return { item, title, status, bar, figures, detail, error, cancel, resume };
}

function update(row, d) {
  row.item.dataset.status = d.status;
  setText(row.title, d.file);
  setText(row.status, STATUS_WORDS[d.status] ?? d.status);
  row.bar.max = Math.max(d.total, 1);
  row.bar.value = d.total > 0 ? d.done : 0;
  const percent = d.total > 0 ? Math.floor((d.done / d.total) * 100) : 0;
  const parts = [`${formatBytes(d.done)} of ${d.total > 0 ? formatBytes(d.total) : '?'} (${percent}%)`];
  if (d.status === 'running') {
    parts.push(formatRate(d.speed), `ETA ${formatEta(d.etaSeconds)}`);
    parts.push(`${d.sources} source${d.sources === 1 ? '' : 's'} sending`);
  }
  if (d.pieceCount !== null) parts.push(`${d.verifiedPieces} of ${d.pieceCount} pieces verified`);
  setText(row.figures, parts.join(' · '));
  const from = d.from === 'all' ? 'from every peer that has it' : `from ${d.from}`;
  const details = [from, `started ${formatTime(d.startedAt)}`];
  if (d.attempts > 1) details.push(`attempt ${d.attempts}`);
  if (d.resumedFrom) details.push(`resumed from ${formatBytes(d.resumedFrom)}`);
  if (d.endedAt) details.push(`ended ${formatTime(d.endedAt)}`);
  if (d.status === 'done')
    details.push(
      d.verified
        ? `verified, SHA-256 ${d.sha256}`
        : 'saved WITHOUT verification (its peer gives no piece hashes)',
    );
  setText(row.detail, details.join(' · '));
  setText(row.error, d.error ? d.error.message : '');
  row.error.hidden = !d.error;
  row.cancel.hidden = d.status !== 'running';
  row.resume.hidden = d.status !== 'failed' && d.status !== 'cancelled';
}

/** Shows `downloads` (newest first), keeping each item's elements from one update to the next. */
export function renderDownloads(downloads, onError) {
  const list = document.getElementById('download-list');
  document.getElementById('downloads-empty').hidden = downloads.length > 0;
  const seen = new Set();
  const items = downloads.map((download) => {
    seen.add(download.id);
    let row = rows.get(download.id);
    if (!row) {
      row = makeRow(download, onError);
      rows.set(download.id, row);
    }
    update(row, download);
    return row.item;
  });
  for (const id of rows.keys()) if (!seen.has(id)) rows.delete(id);
  // Moves only what is out of place, so focus and hover are not lost on every update.
  items.forEach((item, i) => {
    if (list.children[i] !== item) list.insertBefore(item, list.children[i] ?? null);
  });
  while (list.children.length > items.length) list.lastElementChild.remove();
}
