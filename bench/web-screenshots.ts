/**
 * `npm run -s screenshots`: the web page's pictures in docs/ (desktop and phone width), taken in
 * Debian's chromium from a real session on 127.0.0.1 — an index server, a peer sharing a file at
 * a capped rate, and two web peers that join, search, download and chat. Nothing is left behind.
 */
import path from 'node:path';
import { launchBrowser } from '../test/helpers/browser.ts';
import { killAll, ROOT, runCli, startServer } from '../test/helpers/cli.ts';
import { makeTempDir, removeTempDirs, writeRandomFile } from '../test/helpers/files.ts';

const DOCS = path.join(ROOT, 'docs');

async function webPeer(indexPort: number): Promise<string> {
  const cli = runCli('peer', ['web', '--listen', '127.0.0.1:0', '--server', `127.0.0.1:${indexPort}`]);
  return (await cli.waitFor(/^web: /, 'stderr')).slice('web: '.length);
}

async function main(): Promise<void> {
  const { port } = await startServer();
  const shared = await makeTempDir();
  await writeRandomFile(path.join(shared, 'aula1.mp4'), 64 * 1024 * 1024);
  await writeRandomFile(path.join(shared, 'notes.txt'), 2400);
  const uploader = runCli('peer', [
    '--server',
    `127.0.0.1:${port}`,
    '--keep-sharing',
    '--max-upload-rate',
    '8MB',
  ]);
  uploader.send(`JOIN 127.0.0.1 8776 ${shared}`);
  await uploader.waitFor(/^Sou peer /);
  const [urlA, urlB] = [await webPeer(port), await webPeer(port)];
  const browser = await launchBrowser();
  try {
    const pageB = await browser.newPage();
    await pageB.goto(urlB as string);
    await pageB.getByLabel('Folder', { exact: true }).fill(await makeTempDir());
    await pageB.getByRole('button', { name: 'Join' }).click();
    await pageB.getByText('Joined: sharing').waitFor();
    await pageB.getByLabel('Your alias').fill('bob');
    await pageB.getByRole('button', { name: 'Set alias' }).click();
    await pageB.getByText('You are bob.').waitFor();

    const page = await browser.newPage();
    await page.goto(urlA as string);
    await page.getByLabel('Port', { exact: false }).fill('8777');
    await page.getByLabel('Folder', { exact: true }).fill(await makeTempDir());
    await page.getByRole('button', { name: 'Join' }).click();
    await page.getByText('Joined: sharing').waitFor();
    await page.getByLabel('Your alias').fill('ana');
    await page.getByRole('button', { name: 'Set alias' }).click();
    await page.getByText('You are ana.').waitFor();
    await pageB.getByLabel('Message', { exact: true }).fill('hi ana, aula1.mp4 is on 127.0.0.1:8776');
    await pageB.getByLabel('Message', { exact: true }).press('Enter');
    await page.getByRole('log', { name: 'Chat messages' }).getByText('hi ana').waitFor();
    await page.getByLabel('File name, with its extension (exact)').fill('aula1.mp4');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('button', { name: 'Download aula1.mp4 from 127.0.0.1:8776' }).click();
    // A few seconds of transfer, so the chart has a line and the bar is on its way.
    await page
      .locator('.figures')
      .filter({ hasText: /([7-9]|1[0-3]) of 16 pieces verified/ })
      .waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Refresh the list' }).click();
    await page.getByRole('list', { name: 'Online peers' }).getByText('bob').waitFor();
    await page.screenshot({ path: path.join(DOCS, 'web-desktop.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(DOCS, 'web-phone.png'), fullPage: true });
    process.stderr.write(`wrote ${path.join(DOCS, 'web-desktop.png')} and web-phone.png\n`);
  } finally {
    await browser.close();
    await killAll();
    await removeTempDirs();
  }
}

await main();
