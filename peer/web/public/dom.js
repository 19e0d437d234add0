/**
 * Building the page's elements. Every piece of text, whatever its origin (a file name, an alias,
 * a chat message, an error from another peer), becomes a text node: nothing that came from the
 * network is ever parsed as HTML.
 */

/**
 * An element `tag` with `attributes` (set with setAttribute; `hidden`/`disabled` as booleans)
 * and `children`: strings become text nodes, null and false are skipped.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === false || child === undefined) continue;
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

/** `element`'s text, set as text (never markup). */
export function setText(element, text) {
  element.textContent = text;
}

/**
 * Sizes in powers of 1000, written exactly as the terminal's progress bar writes them
 * (shared/units.ts, which the browser cannot load: the page has no build step).
 */
export function formatBytes(bytes) {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2)} ${units[unit]}`;
}

export function formatRate(bytesPerSecond) {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

/** `1 min 05 s`, `12 s`; a dash when unknown. */
export function formatEta(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(seconds % 60).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

export function formatTime(at) {
  return new Date(at).toLocaleTimeString();
}
