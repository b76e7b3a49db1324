// The registry's web page in a real browser, as a person uses it: open the home page, choose an
// image, press "Look it up", find the expected work in a claim on the answer page, follow its link
// to the work's page. Once on a phone and once on a desktop screen, then once more with
// JavaScript off (the form is plain HTML). Screenshots of every page go to OUTDIR.
//
// Usage: node lookup.mjs BASE_URL IMAGE TITLE OUTDIR
// Chromium: HANDPRINT_CHROMIUM, else `chromium` on PATH (scripts/browser.sh installs it).
// Exits 1 when a step fails, printing what the page said.

import { accessSync, constants, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { chromium } from 'playwright-core';

const [base, image, title, outdir] = process.argv.slice(2);
if (!base || !image || !title || !outdir) {
  console.error('usage: node lookup.mjs BASE_URL IMAGE TITLE OUTDIR');
  process.exit(2);
}

/** The chromium to drive: never one Playwright would download. */
function chromiumPath() {
  if (process.env.HANDPRINT_CHROMIUM) return process.env.HANDPRINT_CHROMIUM;
  for (const dir of (process.env.PATH || '').split(delimiter)) {
    const candidate = join(dir, 'chromium');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  throw new Error('chromium not found: set HANDPRINT_CHROMIUM or run scripts/browser.sh');
}

class StepFailed extends Error {}

/** Fails the run with `message` and the text a person sees on `page`. */
async function fail(page, message) {
  const text = await page.locator('body').innerText().catch((e) => `(no text: ${e.message})`);
  throw new StepFailed(`${message}\n--- ${page.url()} ---\n${text}\n---`);
}

/** Every image on the page has loaded (a broken one has no natural width). */
async function imagesLoaded(page) {
  const images = page.locator('img');
  for (let i = 0; i < (await images.count()); i++) {
    const img = images.nth(i);
    // Waits for the image to finish loading or fail before asking its size (Playwright's own
    // evaluation runs with the page's scripts off too).
    const width = await img.evaluate((el) => el.decode().then(() => el.naturalWidth, () => 0));
    if (width === 0) await fail(page, `the image "${await img.getAttribute('alt')}" did not load`);
  }
}

async function shot(page, name) {
  const path = join(outdir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot ${path}`);
}

/** The whole walk on one browser context; `name` prefixes the screenshots. */
async function walk(context, name, { sideBySide, javaScript }) {
  const page = await context.newPage();
  page.setDefaultTimeout(120_000);
  // The context runs page scripts or not, as this walk means it to.
  await page.goto('data:text/html,<title></title><script>document.title="scripts ran"</script>');
  if (((await page.title()) === 'scripts ran') !== javaScript) {
    throw new StepFailed(`${name}: page scripts ${javaScript ? 'do not run' : 'run'} in this browser context`);
  }
  // Answers the pages asked for that came back as errors (the favicon is not the page's).
  const errors = [];
  page.on('response', (r) => {
    if (r.status() < 400) return;
    if (r.url().endsWith('/favicon.ico')) console.log(`note: ${r.url()} answered ${r.status()}`);
    else errors.push(`${r.status()} ${r.url()}`);
  });
  page.on('pageerror', (e) => errors.push(`script error: ${e.message}`));

  await page.goto(`${base}/`);
  const form = page.locator('form[action="/lookup"]');
  if ((await form.count()) !== 1) await fail(page, 'the home page has no look-up form');
  await shot(page, `${name}-home`);

  await page.locator('input[type=file]#image').setInputFiles(image);
  await Promise.all([
    page.waitForURL(/\/lookup$/, { waitUntil: 'load' }),
    page.getByRole('button', { name: 'Look it up' }).click(),
  ]);
  const claim = page.locator('.card.claim').filter({ has: page.getByRole('link', { name: title, exact: true }) });
  if ((await claim.count()) < 1) await fail(page, `no claim card names "${title}"`);
  const link = claim.first().getByRole('link', { name: title, exact: true });
  const href = await link.getAttribute('href');
  if (!/^\/works\/[^/]+$/.test(href || '')) await fail(page, `the link to "${title}" goes to ${href}`);
  await imagesLoaded(page);
  if (sideBySide) {
    // The published work and the uploaded copy, next to each other on a wide screen.
    const boxes = await claim.first().locator('figure').evaluateAll((fs) =>
      fs.map((f) => f.getBoundingClientRect().toJSON()),
    );
    if (boxes.length < 2) await fail(page, `the claim shows ${boxes.length} picture(s), not the work and the copy`);
    const [a, b] = boxes;
    if (Math.abs(a.top - b.top) > 1 || a.right > b.left) {
      await fail(page, `the work and the copy are not side by side: ${JSON.stringify(boxes)}`);
    }
  }
  await shot(page, `${name}-lookup`);

  await Promise.all([page.waitForURL(`${base}${href}`, { waitUntil: 'load' }), link.click()]);
  const heading = await page.locator('h1').innerText();
  if (!heading.includes(title)) await fail(page, `the work page's heading is "${heading}", not "${title}"`);
  if (!(await page.getByRole('heading', { name: 'In the log' }).isVisible())) {
    await fail(page, 'the work page does not show "In the log"');
  }
  await imagesLoaded(page);
  await shot(page, `${name}-work`);

  if (errors.length) await fail(page, `requests failed:\n${errors.join('\n')}`);
  await page.close();
}

mkdirSync(outdir, { recursive: true });
// Chromium's sandbox needs user namespaces that root in a container does not get.
const args = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args });
try {
  const devices = [
    ['phone', { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }, false],
    ['desktop', { viewport: { width: 1280, height: 900 } }, true],
    ['nojs', { viewport: { width: 1280, height: 900 }, javaScriptEnabled: false }, true],
  ];
  for (const [name, options, sideBySide] of devices) {
    const context = await browser.newContext(options);
    try {
      await walk(context, name, { sideBySide, javaScript: options.javaScriptEnabled !== false });
    } finally {
      await context.close();
    }
    console.log(`${name}: the look-up names "${title}" and its page shows it in the log`);
  }
} catch (e) {
  console.error(e instanceof StepFailed ? e.message : e);
  process.exitCode = 1;
} finally {
  await browser.close();
}
