// Plays a format=hls playlist with hls.js in Debian's Chromium (through
// playwright-core from ../node_modules, never a downloaded browser), seeks
// to the middle and reports as JSON on stdout: where currentTime landed
// after the seek and where it was a while later. Used by
// tests/integration/test_hls.py.
//
// usage: node run_hls.js PAGE_URL PLAYLIST_PATH [--chromium PATH]
//                        [--wait SECONDS]
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
  const page_url = process.argv[2];
  const playlist = process.argv[3];
  const exe = arg('--chromium', '/usr/bin/chromium');
  const waitS = Number(arg('--wait', '20'));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mediafcgi-chromium-'));
  const report = { console: [], failed: [] };
  let ctx;
  try {
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: exe,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update',
             '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
    });
    report.browser = ctx.browser() ? ctx.browser().version() : null;
    const page = ctx.pages()[0] || await ctx.newPage();
    page.on('console', (m) => report.console.push(m.type() + ': ' + m.text()));
    page.on('requestfailed', (r) => report.failed.push(r.url() + ' ' + (r.failure() || {}).errorText));
    await page.goto(page_url + '#' + encodeURIComponent(playlist),
      { waitUntil: 'load', timeout: 15000 });
    const video = () => page.evaluate(() => {
      const v = document.getElementById('v');
      return { currentTime: v.currentTime, duration: v.duration, paused: v.paused,
               readyState: v.readyState, width: v.videoWidth, height: v.videoHeight,
               error: v.error ? v.error.message || String(v.error.code) : null,
               hls: window.hlsReport };
    });
    // playing from the start
    await page.waitForFunction(() => document.getElementById('v').currentTime > 0.5,
      null, { timeout: waitS * 1000 });
    report.start = await video();
    // the seek: to the middle, then where it landed and whether it plays on
    report.target = report.start.duration / 2;
    const t0 = Date.now();
    report.seeked_at = await page.evaluate((target) => new Promise((resolve) => {
      const v = document.getElementById('v');
      v.addEventListener('seeked', () => resolve(v.currentTime), { once: true });
      v.currentTime = target;
    }), report.target);
    report.seek_ms = Date.now() - t0;
    await page.waitForFunction((t) => document.getElementById('v').currentTime > t + 1.0,
      report.seeked_at, { timeout: waitS * 1000 }).catch(() => {});
    report.after = await video();
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
