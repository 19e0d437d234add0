/**
 * A real browser for the web page's tests: Debian's chromium (installed by .ci/run), driven by
 * playwright-core, headless, with a fresh profile in a temp folder and nothing that talks to the
 * internet (no background networking, component updates, sync or QUIC).
 */
import fs from 'node:fs';
import { type BrowserContext, chromium } from 'playwright-core';
import { makeTempDir } from './files.ts';

export const CHROMIUM = '/usr/bin/chromium';

/** Whether the browser is installed (the tests are skipped, saying so, where it is not). */
export const haveChromium = fs.existsSync(CHROMIUM);

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A browser with a fresh user-data-dir; close it with `context.close()`. */
export async function launchBrowser(): Promise<BrowserContext> {
  const profile = await makeTempDir('napshare-chromium-');
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1200, height: 900 },
    // A 2-core machine busy with other tests: the browser's own start may be slow.
    timeout: 60_000,
  });
}
