/** The small live chart of transfer speed: one point a second, the last minute, as an SVG line. */
import { formatRate, setText } from './dom.js';

const WIDTH = 300;
const HEIGHT = 60;
const SAMPLES = 60;

export function drawSpeed(samples) {
  const line = document.getElementById('speed-line');
  const caption = document.getElementById('speed-caption');
  if (samples.length === 0) {
    line.setAttribute('points', '');
    return;
  }
  const top = Math.max(...samples, 1);
  const step = WIDTH / (SAMPLES - 1);
  const offset = SAMPLES - samples.length;
  const points = samples.map((value, i) => {
    const x = (offset + i) * step;
    const y = HEIGHT - (value / top) * (HEIGHT - 4) - 2;
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  line.setAttribute('points', points.join(' '));
  const now = samples[samples.length - 1];
  setText(caption, `Transfer speed, last minute: now ${formatRate(now)}, at most ${formatRate(top)}.`);
}
