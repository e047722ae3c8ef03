// Loads the test page in Debian's Chromium (never a downloaded browser)
// through playwright-core and reports what the page shows, as JSON on
// stdout: two screenshots of the live <img> a second apart (PNG files in
// OUTDIR) and each <video>'s state once its currentTime passed MIN_TIME
// (or the time ran out). Used by tests/integration/test_browser.py.
//
// usage: node run.js PAGE_URL OUTDIR [--chromium /usr/bin/chromium]
//                    [--wait SECONDS] [--min-time SECONDS]
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

async function main() {
  const url = process.argv[2];
  const out = process.argv[3];
  const exe = arg('--chromium', '/usr/bin/chromium');
  const waitS = Number(arg('--wait', '10'));
  const minTime = Number(arg('--min-time', '0.5'));
  if (!url || !out) throw new Error('usage: node run.js PAGE_URL OUTDIR');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mediafcgi-chromium-'));
  const report = { console: [], failed: [], videos: {} };
  let ctx;
  try {
    // headless: playwright passes --headless itself
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: exe,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update',
             '--disable-sync'],
      viewport: { width: 800, height: 900 },
    });
    report.browser = ctx.browser() ? ctx.browser().version() : null;
    const page = ctx.pages()[0] || await ctx.newPage();
    page.on('console', (m) => report.console.push(m.type() + ': ' + m.text()));
    page.on('requestfailed', (r) => report.failed.push(r.url() + ' ' + (r.failure() || {}).errorText));
    const t0 = Date.now();
    // an MJPEG <img> never finishes loading: do not wait for 'load'
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 15000 });

    // the live image: loaded, then two screenshots a second apart
    await page.waitForFunction(() => document.getElementById('live').naturalWidth > 0,
      null, { timeout: waitS * 1000 });
    report.live_natural = await page.evaluate(() => {
      const i = document.getElementById('live');
      return [i.naturalWidth, i.naturalHeight];
    });
    const box = await (await page.$('#live')).boundingBox();
    const clip = { x: box.x, y: box.y, width: box.width, height: box.height };
    await page.screenshot({ path: path.join(out, 'live1.png'), clip });
    const s1 = Date.now();
    await page.waitForTimeout(1000);
    await page.screenshot({ path: path.join(out, 'live2.png'), clip });
    report.screenshot_gap_ms = Date.now() - s1;

    // the videos: playing, currentTime past minTime
    const state = () => page.evaluate(() => {
      const r = {};
      for (const v of document.querySelectorAll('video')) {
        r[v.id] = {
          currentTime: v.currentTime, readyState: v.readyState,
          networkState: v.networkState, paused: v.paused, ended: v.ended,
          width: v.videoWidth, height: v.videoHeight,
          buffered: v.buffered.length ? v.buffered.end(v.buffered.length - 1) : 0,
          error: v.error ? { code: v.error.code, message: v.error.message } : null,
        };
      }
      return r;
    });
    const deadline = t0 + waitS * 1000;
    for (;;) {
      report.videos = await state();
      const vs = Object.values(report.videos);
      if (vs.every((v) => v.currentTime > minTime || v.error)) break;
      if (Date.now() > deadline) break;
      await page.waitForTimeout(200);
    }
    report.elapsed_ms = Date.now() - t0;
  } finally {
    if (ctx) await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(report) + '\n');
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ fatal: String(e && e.stack || e) }) + '\n');
  process.exit(1);
});
