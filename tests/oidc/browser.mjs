// A person at a browser, for jitca's tests: Debian's chromium, headless,
// driven by puppeteer-core through the test provider's pages.
//
//   node browser.mjs URL LOGIN                 authorization code flow
//   node browser.mjs URL LOGIN --device CODE   device flow
//
// Code flow: opens URL (an authorization request), signs in as LOGIN on
// the login page (any password), confirms the consent page, and stops when
// the browser has been sent to the loopback redirect URI; prints that URL.
// Device flow: opens URL (the verification URI), types CODE, confirms,
// signs in and consents, and stops at "Sign-in Success"; prints "success".
//
// Only loopback requests leave the browser (the provider's pages import a
// web font; that is refused).  Exits 1 on any failure, after 60 s at most,
// and always closes the browser.
import puppeteer from 'puppeteer-core';

const [url, login, flag, userCode] = process.argv.slice(2);
if (!url || !login || (flag && flag !== '--device') || (flag && !userCode)) {
  process.stderr.write('usage: browser.mjs URL LOGIN [--device CODE]\n');
  process.exit(2);
}
const device = flag === '--device';
const redirectPrefix = new URL(url).searchParams.get('redirect_uri');

const timer = setTimeout(() => {
  process.stderr.write('browser: timed out\n');
  process.exit(1);
}, 60000);

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--no-first-run'],
});
let code = 1;
try {
  const page = await browser.newPage();
  await page.setRequestInterception(true);
  page.on('request', (req) => {
    const host = new URL(req.url()).hostname;
    if (host === '127.0.0.1' || host === '[::1]') req.continue();
    else req.abort();
  });

  const submit = async (form) => {
    await Promise.all([
      page.waitForNavigation({ waitUntil: 'domcontentloaded' }),
      page.click(`button[type=submit]${form ? `[form="${form}"]` : ''}`),
    ]);
  };

  await page.goto(url, { waitUntil: 'domcontentloaded' });
  for (let step = 0; step < 10; step++) {
    const here = page.url();
    if (!device && redirectPrefix && here.startsWith(redirectPrefix)) {
      process.stdout.write(`${here}\n`);
      code = 0;
      break;
    }
    const title = await page.title();
    if (device && title === 'Sign-in Success') {
      process.stdout.write('success\n');
      code = 0;
      break;
    }
    if (title === 'Device Login Confirmation') {
      await Promise.all([
        page.waitForNavigation({ waitUntil: 'domcontentloaded' }),
        page.click('button[autofocus]'),
      ]);
    } else if (await page.$('input[name=user_code]')) {
      await page.type('input[name=user_code]', userCode);
      await submit('op.deviceInputForm');
    } else if (await page.$('input[name=login]')) {
      await page.type('input[name=login]', login);
      await page.type('input[name=password]', 'any password');
      await submit();
    } else if (await page.$('input[name=prompt][value=consent]')) {
      await submit();
    } else {
      throw new Error(`unexpected page "${title}" at ${here}`);
    }
  }
  if (code !== 0) throw new Error(`did not finish, at ${page.url()}`);
} catch (e) {
  process.stderr.write(`browser: ${e.message}\n`);
} finally {
  await browser.close();
  clearTimeout(timer);
}
process.exit(code);
