// Opens a running Switchboard's web console in Debian's chromium (driven by
// playwright-core, no downloaded browser), connects with `jsonrpc`, calls
// `echo` and waits for the reply to show up in the page's log.
//
//   node console.mjs http://127.0.0.1:PORT/
//
// CHROMIUM overrides the browser (default /usr/bin/chromium). Exit code 0 when
// the reply is on the page; a screenshot of a failure goes to
// $E2E_ARTIFACTS/console-failure.png when that directory is set.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const url = process.argv[2];
if (!url) {
  console.error('usage: node console.mjs http://HOST:PORT/');
  process.exit(2);
}
const TIMEOUT_MS = 20000;
const marker = `chromium-${process.pid}-${Date.now()}`;
const userDataDir = mkdtempSync(join(tmpdir(), 'switchboard-chromium-'));
const pageErrors = [];
let context;

function step(text) {
  console.log(`  · ${text}`);
}

try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    timeout: 60000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(TIMEOUT_MS);
  const page = context.pages()[0] ?? await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  page.on('console', (message) => {
    // The browser asks for /favicon.ico by itself; the console page has none.
    if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico')) {
      pageErrors.push(message.text());
    }
  });

  const response = await page.goto(url, { waitUntil: 'load' });
  if (!response || response.status() !== 200) throw new Error(`GET ${url}: HTTP ${response?.status()}`);
  step(`opened ${url}: "${await page.title()}" (${await context.browser()?.version() ?? 'chromium'})`);

  await page.selectOption('#protocol', 'jsonrpc');
  await page.click('#connect');
  await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'connected · jsonrpc');
  step(`status: ${await page.textContent('#status')}`);

  // The console asks rpc.discover on connect and fills the method list.
  await page.waitForSelector('#method option[value="echo"]', { state: 'attached' });
  await page.selectOption('#method', 'echo');
  const params = { from: 'chromium', marker };
  await page.fill('#params', JSON.stringify(params));
  await page.click('#call');

  const reply = page.locator('#log .entry.in', { hasText: marker });
  await reply.first().waitFor();
  const text = (await reply.first().locator('div').nth(1).textContent()) ?? '';
  const message = JSON.parse(text);
  if (message.jsonrpc !== '2.0' || message.error || JSON.stringify(message.result) !== JSON.stringify(params)) {
    throw new Error(`unexpected reply on the page: ${text}`);
  }
  step(`reply on the page: ${JSON.stringify(message)}`);
  if (pageErrors.length) throw new Error(`errors in the page: ${pageErrors.join(' | ')}`);
  console.log('ok chromium: the web console called echo over jsonrpc and shows the reply');
} catch (error) {
  console.error(`FAIL chromium: ${error.message ?? error}`);
  if (pageErrors.length) console.error(`  page errors: ${pageErrors.join(' | ')}`);
  const page = context?.pages()[0];
  if (page && process.env.E2E_ARTIFACTS) {
    const shot = join(process.env.E2E_ARTIFACTS, 'console-failure.png');
    await page.screenshot({ path: shot }).catch(() => {});
    console.error(`  screenshot: ${shot}`);
  }
  process.exitCode = 1;
} finally {
  await context?.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
}
