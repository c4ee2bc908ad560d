// jitca's web pages in a real browser, for tests/integration/test_ui.c:
// Debian's chromium, headless, driven by puppeteer-core (from the test
// provider's committed lockfile, tests/oidc/node_modules).
//
//   node ui.mjs CONFIG_JSON
//
// CONFIG_JSON: {"base": "http://127.0.0.1:PORT", "out": DIR,
//   "approver": TOKEN, "requester": TOKEN, "hostile": ID, "other": ID,
//   "own": ID, "reason": TEXT}
// where hostile is a pending request whose reason (TEXT) is hostile
// markup, other a pending request of the same requester, and own a
// pending request of the approver's own.  Prints one JSON object of what
// it saw (the C test asserts on it) and saves a screenshot of each page
// into DIR.  Only loopback requests leave the browser.  Exits 1 on any
// failure, after 90 s at most, and always closes the browser.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../oidc/package.json', import.meta.url));
const puppeteer = require('puppeteer-core');

const cfg = JSON.parse(process.argv[2] ?? '{}');
const timer = setTimeout(() => {
  process.stderr.write('ui.mjs: timed out\n');
  process.exit(1);
}, 90000);

const seen = { dialogs: [], no_csp: [], documents: 0 };
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--no-first-run'],
});

// A page in its own browser context (its own cookies).
async function person(width, height) {
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  await page.setViewport({ width, height });
  await page.setRequestInterception(true);
  page.on('request', (req) => {
    const host = new URL(req.url()).hostname;
    if (host === '127.0.0.1') req.continue();
    else req.abort();
  });
  page.on('dialog', async (d) => {
    seen.dialogs.push(d.message());
    await d.dismiss();
  });
  page.on('response', (r) => {
    if (r.request().resourceType() !== 'document') return;
    seen.documents++;
    if (!r.headers()['content-security-policy']) seen.no_csp.push(r.url());
  });
  return page;
}

const shot = (page, name) =>
  page.screenshot({ path: `${cfg.out}/${name}.png`, fullPage: true });

async function clickAndWait(page, selector) {
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.click(selector),
  ]);
}

async function signIn(page, token) {
  await page.type('#token', token);
  await clickAndWait(page, 'form[action="/ui/session"] button[type=submit]');
}

const count = (page, sel) => page.$$eval(sel, (els) => els.length);
const text = (page, sel) =>
  page.$eval(sel, (el) => el.textContent).catch(() => null);

// Through the provider's login and consent pages until the browser is
// back on base; then wait for the page the callback moves on to.
async function providerSignIn(page, login) {
  for (let step = 0; step < 10; step++) {
    if (page.url().startsWith(cfg.base)) break;
    if (await page.$('input[name=login]')) {
      await page.type('input[name=login]', login);
      await page.type('input[name=password]', 'any password');
    } else if (!(await page.$('input[name=prompt][value=consent]'))) {
      throw new Error(`unexpected page "${await page.title()}" at ${page.url()}`);
    }
    await clickAndWait(page, 'button[type=submit]');
  }
  if (!page.url().startsWith(cfg.base)) throw new Error(`stuck at ${page.url()}`);
  if (page.url().includes('/ui/oidc/callback')) {
    await page.waitForNavigation({ waitUntil: 'load' });
  }
}

// CONFIG_JSON {"mode": "oidc", "base", "out", "login", "request"}: the
// approver signs in at the provider from the request's link, approves.
async function oidcFlow(out) {
  const phone = await person(390, 844);
  const t0 = Date.now();
  await phone.goto(`${cfg.base}/ui/requests/${cfg.request}`, { waitUntil: 'load' });
  out.oidc_link = await phone.$eval('#oidc', (a) => a.getAttribute('href'));
  await clickAndWait(phone, '#oidc');
  out.provider_url = phone.url();
  await shot(phone, '8-provider-login');
  await providerSignIn(phone, cfg.login);
  out.after_url = phone.url();
  out.who = await text(phone, '.who strong');
  await shot(phone, '9-oidc-request-phone');
  await clickAndWait(phone, '#approve');
  out.approved_state = await text(phone, '#state');
  out.approve_ms = Date.now() - t0;
}

// CONFIG_JSON {"mode": "oidc-stale", ..., "wait": MS}: as oidcFlow, but
// the approver waits past approver_max_auth_age before approving, is
// asked to sign in again, does, and then approves.
async function staleFlow(out) {
  const phone = await person(390, 844);
  await phone.goto(`${cfg.base}/ui/requests/${cfg.request}`, { waitUntil: 'load' });
  await clickAndWait(phone, '#oidc');
  await providerSignIn(phone, cfg.login);
  await new Promise((r) => { setTimeout(r, cfg.wait); });
  await clickAndWait(phone, '#approve');
  out.stale_title = await phone.title();
  out.stale_message = await text(phone, '.msg');
  out.again_link = await phone.$eval('main p a', (a) => a.getAttribute('href'));
  await shot(phone, '10-sign-in-again-phone');
  await clickAndWait(phone, 'main p a');
  out.login_asked_again = (await phone.$('input[name=login]')) !== null;
  await providerSignIn(phone, cfg.login);
  await clickAndWait(phone, '#approve');
  out.approved_state = await text(phone, '#state');
}

let code = 1;
const out = {};
try {
  if (cfg.mode === 'oidc') {
    await oidcFlow(out);
  } else if (cfg.mode === 'oidc-stale') {
    await staleFlow(out);
  } else {
    // The approver on a phone: open the link, sign in, approve.
    const phone = await person(390, 844);
    const t0 = Date.now();
    await phone.goto(`${cfg.base}/ui/requests/${cfg.hostile}`, { waitUntil: 'load' });
    out.signin_title = await phone.title();
    await shot(phone, '1-signin-phone');
    await signIn(phone, cfg.approver);
    out.detail_title = await phone.title();
    out.reason_text = await text(phone, '.reason');
    out.injected = {
      img: await count(phone, 'main img'),
      script: await count(phone, 'script'),
      js_links: await count(phone, 'a[href^="javascript"]'),
      onerror: await count(phone, '[onerror]'),
    };
    out.detail_digest = await text(phone, '#digest');
    out.expect_field = await phone.$eval('input[name=expect]', (e) => e.value);
    await shot(phone, '2-request-phone');
    await clickAndWait(phone, '#approve');
    out.approved_state = await text(phone, '#state');
    out.approve_ms = Date.now() - t0;
    await shot(phone, '3-approved-phone');

    // The pending list: the other request is there, the approved one not.
    await phone.goto(`${cfg.base}/ui/`, { waitUntil: 'load' });
    out.pending_ids = await phone.$$eval('main section h2 a', (as) =>
      as.map((a) => a.textContent.replace(/^Request #/, '')));
    await shot(phone, '4-pending-phone');

    // The approver's own request: no approve button.
    await phone.goto(`${cfg.base}/ui/requests/${cfg.own}`, { waitUntil: 'load' });
    out.own_approve_buttons = await count(phone, '#approve');
    out.own_note = await text(phone, '#own');

    // A desktop window for the reviewer's pages.
    const desk = await person(1280, 900);
    await desk.goto(`${cfg.base}/ui/ledger`, { waitUntil: 'load' });
    await signIn(desk, cfg.approver);
    out.verify = await text(desk, '#verify');
    await desk.type('#type', 'cert.issued');
    await clickAndWait(desk, '#filter');
    out.ledger_url = desk.url();
    out.ledger_seqs = await desk.$$eval('#events td[data-label=Seq]', (tds) =>
      tds.map((td) => Number(td.textContent)));
    await shot(desk, '5-ledger-filtered');
    await desk.goto(`${cfg.base}/ui/report`, { waitUntil: 'load' });
    out.report_rows = await desk.$$eval('#grants tbody tr', (trs) =>
      trs.map((tr) => Array.from(tr.cells).map((c) => c.textContent)));
    await shot(desk, '6-report');

    // The requester: sees their request, no approve button.
    const req = await person(390, 844);
    await req.goto(`${cfg.base}/ui/requests/${cfg.other}`, { waitUntil: 'load' });
    await signIn(req, cfg.requester);
    out.requester_approve_buttons = await count(req, '#approve');
    out.requester_state = await text(req, '#state');
    await shot(req, '7-requester-own-phone');
  }

  out.dialogs = seen.dialogs;
  out.no_csp = seen.no_csp;
  out.documents = seen.documents;
  process.stdout.write(`${JSON.stringify(out)}\n`);
  code = 0;
} catch (e) {
  process.stderr.write(`ui.mjs: ${e.stack ?? e}\n`);
} finally {
  clearTimeout(timer);
  await browser.close();
}
process.exit(code);
