// Measures how long the web chat takes to load on loopback: for each of N
// fresh browser profiles (nothing cached), the time from asking for
// /chat/ until the WebAssembly client ran and answered (the page's
// data-load-ms), and kontor.wasm's transfer. Usage:
//   node load.mjs http://127.0.0.1:8080 [N]
// docs/performance.md records its output.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const base = process.argv[2];
const n = Math.min(Number(process.argv[3] || 10), 50);
if (!base || !/^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(base)) {
  console.error('usage: node load.mjs http://127.0.0.1:PORT [N]   (loopback only)');
  process.exit(2);
}
const loads = [], fetches = [];
let size;
for (let i = 0; i < n; i++) {
  const profile = mkdtempSync(join(tmpdir(), 'kontor-load-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = context.pages()[0] || await context.newPage();
    await page.goto(base + '/chat/');
    await page.waitForFunction(() => document.body.dataset.loadMs, null, { timeout: 60_000 });
    const r = await page.evaluate(() => ({
      load: Number(document.body.dataset.loadMs),
      wasm: performance.getEntriesByType('resource').filter((e) => e.name.endsWith('/kontor.wasm'))
        .map((e) => ({ ms: e.duration, transfer: e.transferSize, decoded: e.decodedBodySize }))[0],
    }));
    loads.push(r.load);
    fetches.push(r.wasm.ms);
    size = r.wasm;
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: Math.round(s[Math.floor(s.length / 2)]), min: Math.round(s[0]), max: Math.round(s[s.length - 1]) };
};
console.log(JSON.stringify({ runs: n, load_ms: stats(loads), wasm_fetch_ms: stats(fetches), wasm_transfer_bytes: size.transfer, wasm_bytes: size.decoded }));
