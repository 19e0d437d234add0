/**
 * The web page in a real browser (Debian's chromium, playwright-core), against real processes:
 * an index server, a course peer sharing random files at a capped rate, and two `peer web`
 * peers. A person's way through the page, by labels and the keyboard: JOIN, SEARCH, a download
 * whose progress is seen moving and whose copy has the right SHA-256; cancel and resume; a chat
 * message from one page to the other, shown as text; a page without the token refused.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchBrowser } from '../helpers/browser.ts';
import { type CliProcess, killAll, runCli, startServer } from '../helpers/cli.ts';
import { exists, makeTempDir, removeTempDirs, sha256File, writeRandomFile } from '../helpers/files.ts';

const MiB = 1024 * 1024;
/** Four 4 MiB pieces at 4 MB/s: about 4 s each, long enough to watch and to cancel. */
const FILE_BYTES = 16 * MiB;
const UPLOAD_RATE = '4MB';
/** Deadline of a whole download on a busy 2-core machine. */
const DOWNLOAD_MS = 60_000;

interface WebPeerProcess {
  cli: CliProcess;
  url: string;
  base: string;
}

let browser: BrowserContext;
let indexPort: number;
let uploader: string;
const shas: Record<string, string> = {};

async function startWebPeer(): Promise<WebPeerProcess> {
  const cli = runCli('peer', ['web', '--listen', '127.0.0.1:0', '--server', `127.0.0.1:${indexPort}`]);
  const url = (await cli.waitFor(/^web: /, 'stderr')).slice('web: '.length);
  return { cli, url, base: url.slice(0, url.indexOf('?')) };
}

/** Opens `peer`'s page and JOINs `folder`, typing as a person does (Enter submits). */
async function openAndJoin(peer: WebPeerProcess, folder: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(peer.url);
  await page.getByText('Connected to the peer').waitFor();
  await page.getByLabel('Folder', { exact: true }).fill(folder);
  await page.getByLabel('Folder', { exact: true }).press('Enter');
  await page.getByText(`Joined: sharing ${folder}`).waitFor();
  return page;
}

async function search(page: Page, file: string): Promise<void> {
  const box = page.getByLabel('File name, with its extension (exact)');
  await box.fill(file);
  await box.press('Enter');
  await page.getByText(`1 peer shares ${file}.`).waitFor();
}

/**
 * Records, inside the page, every progress value and figures line the downloads list shows (the
 * script runs in the browser; this file is type-checked without the DOM library, hence a string).
 */
const WATCH_PROGRESS = `
  window.seen = [];
  new MutationObserver(() => {
    for (const item of document.querySelectorAll('#download-list li')) {
      const bar = item.querySelector('progress');
      window.seen.push({ value: bar.value, max: bar.max, figures: item.querySelector('.figures').textContent });
    }
  }).observe(document.getElementById('download-list'), { subtree: true, attributes: true, childList: true, characterData: true });
`;

interface Seen {
  value: number;
  max: number;
  figures: string;
}

beforeAll(async () => {
  if (!haveChromium) return;
  indexPort = (await startServer()).port;
  const shared = await makeTempDir();
  for (const name of ['movie.bin', 'series.bin'])
    shas[name] = await writeRandomFile(path.join(shared, name), FILE_BYTES);
  const peer = runCli('peer', [
    '--server',
    `127.0.0.1:${indexPort}`,
    '--keep-sharing',
    '--max-upload-rate',
    UPLOAD_RATE,
  ]);
  peer.send(`JOIN 127.0.0.1 0 ${shared}`);
  uploader = (/^Sou peer (\S+)/.exec(await peer.waitFor(/^Sou peer /)) as RegExpExecArray)[1] as string;
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await killAll();
  await removeTempDirs();
});

describe.skipIf(!haveChromium)('the web page in chromium', () => {
  let peerA: WebPeerProcess;
  let pageA: Page;
  let folderA: string;

  it('JOIN, SEARCH, and a download whose progress is seen moving, SHA-256 checked', async () => {
    peerA = await startWebPeer();
    folderA = await makeTempDir();
    pageA = await openAndJoin(peerA, folderA);
    await search(pageA, 'movie.bin');
    await pageA.evaluate(WATCH_PROGRESS);
    // By the keyboard: focus the button, press Enter.
    await pageA.getByRole('button', { name: `Download movie.bin from ${uploader}` }).press('Enter');
    const item = pageA.locator('#download-list li').filter({ hasText: 'movie.bin' });
    await item.and(pageA.locator('[data-status="done"]')).waitFor({ timeout: DOWNLOAD_MS });

    const seen = (await pageA.evaluate('window.seen')) as Seen[];
    const moving = new Set(seen.filter((s) => s.value > 0 && s.value < s.max).map((s) => s.value));
    expect(moving.size, 'distinct progress values seen between 0 and the end').toBeGreaterThanOrEqual(2);
    const running = seen.map((s) => s.figures).filter((text) => text.includes('ETA'));
    expect(running.some((text) => /\d+(\.\d+)? [kM]B\/s/.test(text))).toBe(true);
    expect(running.some((text) => text.includes('1 source sending'))).toBe(true);
    expect(running.some((text) => /[1-3] of 4 pieces verified/.test(text))).toBe(true);
    await expect(item.locator('.figures').textContent()).resolves.toContain('4 of 4 pieces verified');
    await expect(item.locator('.detail').textContent()).resolves.toContain(
      `verified, SHA-256 ${shas['movie.bin']}`,
    );
    expect(await sha256File(path.join(folderA, 'movie.bin'))).toBe(shas['movie.bin']);
    // Shared from now on: the list of shared files shows it.
    await pageA.getByRole('list', { name: 'Shared files' }).getByText('movie.bin').waitFor();
  });

  it('cancel keeps the verified pieces in the .part; resume finishes from them, SHA-256 checked', async () => {
    await search(pageA, 'series.bin');
    await pageA.getByRole('button', { name: `Download series.bin from ${uploader}` }).click();
    const item = pageA.locator('#download-list li').filter({ hasText: 'series.bin' });
    await item
      .locator('.figures')
      .filter({ hasText: /[1-3] of 4 pieces verified/ })
      .waitFor({ timeout: DOWNLOAD_MS });
    await pageA.getByRole('button', { name: 'Cancel the download of series.bin' }).click();
    await item.and(pageA.locator('[data-status="cancelled"]')).waitFor();
    await expect(item.getByRole('alert').textContent()).resolves.toMatch(
      /^The download of series\.bin was cancelled; series\.bin\.part \(\d+ bytes\) is kept/,
    );
    expect(await exists(path.join(folderA, 'series.bin'))).toBe(false);
    expect(await exists(path.join(folderA, 'series.bin.part.lock'))).toBe(false);
    const kept = (await fs.stat(path.join(folderA, 'series.bin.part'))).size;
    expect(kept).toBeGreaterThanOrEqual(4 * MiB);

    await pageA.getByRole('button', { name: 'Resume the download of series.bin' }).press('Enter');
    await item.and(pageA.locator('[data-status="done"]')).waitFor({ timeout: DOWNLOAD_MS });
    await expect(item.locator('.detail').textContent()).resolves.toMatch(/attempt 2 · resumed from \d/);
    expect(await sha256File(path.join(folderA, 'series.bin'))).toBe(shas['series.bin']);
    expect(await exists(path.join(folderA, 'series.bin.part'))).toBe(false);
  });

  it('a chat message from one page reaches the other, as text', async () => {
    const peerB = await startWebPeer();
    const pageB = await openAndJoin(peerB, await makeTempDir());
    for (const [page, alias] of [
      [pageA, 'ana'],
      [pageB, 'bob'],
    ] as const) {
      await page.getByLabel('Your alias').fill(alias);
      await page.getByLabel('Your alias').press('Enter');
      await page.getByText(`You are ${alias}.`).waitFor();
    }
    const text = 'hello bob <img src=x onerror="window.pwned=1"> & <b>bold</b>';
    await pageA.getByLabel('Message', { exact: true }).fill(text);
    await pageA.getByLabel('Message', { exact: true }).press('Enter');
    await pageA.getByText('Sent to 1 peer.').waitFor();
    const log = pageB.getByRole('log', { name: 'Chat messages' });
    const message = log.locator('p').filter({ hasText: 'hello bob' });
    await message.waitFor();
    await expect(message.locator('strong').textContent()).resolves.toBe('ana');
    await expect(message.locator('.text').textContent()).resolves.toBe(text);
    expect(await log.locator('img, b').count()).toBe(0);
    expect(await pageB.evaluate('window.pwned')).toBeUndefined();
    // The peer list shows both, refreshed by the button.
    await pageB.getByRole('button', { name: 'Refresh the list' }).click();
    await pageB.getByRole('list', { name: 'Online peers' }).getByText('ana').waitFor();
    await pageB.close();
  });

  it('a page without the token is refused, and the page fits a phone', async () => {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(peerA.base);
    await page.getByText('This address has no token').waitFor();
    const status = await page.evaluate(async () => {
      const response = await fetch('/api/state');
      return { status: response.status, body: await response.json() };
    });
    expect(status).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
    // With the token, at phone width, nothing is wider than the screen.
    await page.goto(peerA.url);
    await page.getByText('Connected to the peer').waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.close();
  });
});
