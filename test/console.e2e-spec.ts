import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { TwilioRelayClient } from '../scripts/call/relay-client.js';
import { createKey, seedCall } from './support/admin-fixtures.js';
import { callParams, newCallSid, startSystem, testConfig, waitFor, type System } from './support/harness.js';
import { answerCall } from './support/media.js';

// A real browser (Debian's chromium, driven by puppeteer-core: nothing is downloaded) against
// the real api and worker. Set CONSOLE_SCREENSHOTS_DIR to keep a screenshot of every page.
const CHROMIUM = '/usr/bin/chromium';
const SHOTS = process.env.CONSOLE_SCREENSHOTS_DIR;
const config = testConfig({ ADMIN_RATE_LIMIT: '1000000' });
let system: System;
let browser: Browser;
let page: Page;
let adminKey: string;
let readKey: string;
let relaySid: string;

async function shot(name: string, fullPage = false): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

/** A relay call in which the caller interrupts the agent's answer about opening hours. */
async function interruptedRelayCall(): Promise<string> {
  const sid = newCallSid();
  const { token } = await answerCall(system.twilio, config, sid, 'relay');
  const relay = new TwilioRelayClient({ apiUrl: system.api.url, publicBaseUrl: config.PUBLIC_BASE_URL, authToken: config.TWILIO_AUTH_TOKEN });
  await relay.connect();
  relay.setup(sid, config.TWILIO_ACCOUNT_SID, token);
  relay.prompt('I want a refund for my last invoice');
  let answer = await relay.answer(0);
  relay.prompt('What are your opening hours?');
  answer = await relay.answer(answer.end);
  relay.send({ type: 'interrupt', utteranceUntilInterrupt: "We're open Monday to Friday", durationUntilInterruptMs: 1400 });
  relay.prompt('my card is four one one one, one one one one, one one one one, one one one one');
  await relay.answer(answer.end);
  relay.close();
  await system.twilio.post('/twilio/status', { ...callParams(sid, config), CallStatus: 'completed', CallDuration: '31', SequenceNumber: '5' });
  await waitFor(async () => (await system.turnsOf(sid)).some((t) => t.interrupted) && (await system.turnsOf(sid)).filter((t) => t.speaker === 'caller').length >= 3, 20_000);
  return sid;
}

async function signIn(key: string): Promise<void> {
  await page.goto(`${system.api.url}/console`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#api-key');
  await page.$eval('#api-key', (el) => ((el as any).value = ''));
  await page.type('#api-key', key);
  await page.click('button[type=submit]');
}

// Callbacks of page.evaluate run in the browser: they reach its globals through globalThis
// (this Node program's types have no DOM).
/**
 * Runs axe-core (WCAG 2 A/AA rules: labels, names, contrast, landmarks …) on the page as it is
 * and returns the serious and critical violations.
 */
async function accessibilityViolations(): Promise<string[]> {
  await page.addScriptTag({ path: createRequire(import.meta.url).resolve('axe-core/axe.min.js') });
  const results = await page.evaluate(async () =>
    (globalThis as any).axe.run((globalThis as any).document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } }),
  );
  return (results.violations as any[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n: any) => n.target.join(' ')).slice(0, 3).join(', ')})`);
}

const text = (selector: string) => page.$eval(selector, (el) => (el as any).innerText);

beforeAll(async () => {
  system = await startSystem(config);
  adminKey = (await createKey(system.db, 'console-admin', ['read', 'write', 'admin'])).key;
  readKey = (await createKey(system.db, 'console-reader', ['read'])).key;
  // History for the list and the charts: two weeks of finished calls.
  const day = 86_400_000;
  for (let i = 0; i < 14; i++) {
    await seedCall(system.db, {
      startedAt: new Date(Date.now() - i * day - 3_600_000),
      durationSec: 40 + i * 7,
      mode: (['gather', 'stream', 'relay'] as const)[i % 3],
      disposition: ['resolved', 'transferred', 'resolved', 'unresolved'][i % 4],
      summary: 'Caller asked about a bill.',
      turns: [
        { speaker: 'agent', text: 'Thanks for calling Acme. How can I help?' },
        { speaker: 'caller', text: i % 2 ? 'I need help with my bill' : 'Can I speak to sales' },
        { speaker: 'agent', text: 'Sure, let me help with that.', latencyMs: 200 + i * 40 },
      ],
    });
  }
  relaySid = await interruptedRelayCall();
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
  page = await browser.newPage();
  // The console's CSP forbids inline scripts; axe-core is injected as one, by the test only.
  await page.setBypassCSP(true);
  await page.setViewport({ width: 1366, height: 860 });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await system?.close();
});

describe('operator console in a real browser', () => {
  it('refuses a wrong key with a clear message, signs in with a good one, keeps it in sessionStorage only', async () => {
    await signIn('sbk_this-key-does-not-exist-0123456789');
    await page.waitForSelector('#signin-error');
    expect(await text('#signin-error')).toMatch(/not valid/);
    await shot('console-signin');
    expect(await accessibilityViolations()).toEqual([]);

    // By keyboard alone: the key field has focus on load, Enter submits.
    await page.goto(`${system.api.url}/console`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#api-key');
    await page.$eval('#api-key', (el) => ((el as any).value = ''));
    expect(await page.evaluate(() => (globalThis as any).document.activeElement?.id)).toBe('api-key');
    await page.keyboard.type(adminKey);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#live-h');
    const stored = await page.evaluate(() => ({ session: (globalThis as any).sessionStorage.getItem('switchboard.apiKey'), local: (globalThis as any).localStorage.length, cookie: (globalThis as any).document.cookie, url: (globalThis as any).location.href }));
    expect(stored.session).toBe(adminKey);
    expect(stored.local).toBe(0);
    expect(stored.cookie).toBe('');
    expect(stored.url).not.toContain(adminKey);
  }, 30_000);

  it('shows a live call appear when it starts and disappear when it ends', async () => {
    await page.waitForSelector('[data-testid=no-live], [data-testid=live-table]');
    const sid = newCallSid();
    const params = callParams(sid, config);
    expect((await system.twilio.post('/twilio/voice?mode=gather', params)).status).toBe(200);
    const row = `tr[data-callsid="${sid}"]`;
    await page.waitForSelector(row, { timeout: 15_000 });
    const cells = await page.$eval(row, (tr) => [...tr.querySelectorAll('td')].map((td) => (td as any).innerText));
    expect(cells[1]).toBe('gather');
    expect(cells[2]).toBe('default');
    expect(cells[4]).toMatch(/^\d+:\d\d$/);
    expect(cells[5]).toMatch(/agent: Thanks for calling/);
    await shot('console-live');
    expect(await accessibilityViolations()).toEqual([]);

    await system.twilio.post('/twilio/status', { ...params, CallStatus: 'completed', CallDuration: '3', SequenceNumber: '3' });
    await page.waitForFunction((sel) => !(globalThis as any).document.querySelector(sel), { timeout: 15_000 }, row);
  }, 40_000);

  it('searches for a word spoken in a call and highlights it', async () => {
    await page.click('nav a[href="#/calls"]');
    await page.waitForSelector('[data-testid=history-table]');
    await page.type('#f-q', 'refund');
    await page.click('form.filters button[type=submit]');
    await page.waitForFunction((sid) => {
      const rows = [...(globalThis as any).document.querySelectorAll('[data-testid=history-table] tbody tr')] as any[];
      return rows.length === 1 && rows[0].getAttribute('data-callsid') === sid;
    }, { timeout: 15_000 }, relaySid);
    expect(await text('.snippet mark')).toMatch(/refund/i);
    await shot('console-history');
    expect(await accessibilityViolations()).toEqual([]);
  }, 30_000);

  it('opens the transcript: conversation, interrupted turn with what was heard and cut, PII marked, events', async () => {
    await page.click(`tr[data-callsid="${relaySid}"] a`);
    await page.waitForSelector('.conversation');
    const cut = await text('[data-interrupted=true]');
    expect(cut).toMatch(/interrupted/);
    expect(cut).toMatch(/Heard: “We're open Monday to Friday”/);
    expect(cut).toMatch(/Cut:/);
    const all = await text('.conversation');
    expect(all).toMatch(/my card is \[card\]/);
    expect(all).toMatch(/PII removed: card/);
    expect(all).not.toMatch(/one one one one/);
    expect(await text('.events')).toMatch(/barge_in/);
    await shot('console-call', true);
    expect(await accessibilityViolations()).toEqual([]);
    // A small laptop screen: nothing is cut off sideways, the events fall under the transcript.
    await page.setViewport({ width: 1024, height: 640 });
    expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth <= (globalThis as any).innerWidth)).toBe(true);
    await page.setViewport({ width: 1366, height: 860 });
  }, 30_000);

  it('shows the stats as charts', async () => {
    await page.click('nav a[href="#/stats"]');
    await page.waitForSelector('.kpis');
    expect(await text('.kpis')).toMatch(/Calls\s+1[5-9]/);
    expect(await page.$$eval('.chart svg rect', (r) => r.length)).toBeGreaterThan(10);
    expect(await text('.charts')).toMatch(/Dispositions[\s\S]*transferred/);
    expect(await text('.charts')).toMatch(/relay \(\d+ turns\)/);
    await shot('console-stats');
    expect(await accessibilityViolations()).toEqual([]);
  }, 30_000);

  it('erases a transcript with an admin key after a confirmation', async () => {
    await page.goto(`${system.api.url}/console#/calls/${relaySid}`);
    await page.waitForSelector('button.danger');
    await page.click('button.danger');
    await page.waitForSelector('[role=alertdialog]');
    await shot('console-erase-confirm');
    await page.click('[role=alertdialog] button.danger');
    await page.waitForSelector('[data-testid=erased]', { timeout: 15_000 });
    const { rows } = await system.db.query('SELECT text FROM turns WHERE "callSid" = $1', [relaySid]);
    expect(rows.every((r) => r.text === '')).toBe(true);
  }, 30_000);

  it('hides erase from a read key, and the API refuses it too', async () => {
    await page.click('button.link'); // sign out
    await page.waitForSelector('#api-key');
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.getItem('switchboard.apiKey'))).toBeNull();
    await signIn(readKey);
    await page.waitForSelector('#live-h');
    const other = await seedCall(system.db, { startedAt: new Date(), durationSec: 12, turns: [{ speaker: 'caller', text: 'hello there' }] });
    await page.goto(`${system.api.url}/console#/calls/${other}`);
    await page.waitForSelector('.conversation');
    expect(await page.$('button.danger')).toBeNull();
    expect(await page.$('nav a[href="#/audit"]')).toBeNull();
    const status = await page.evaluate(async (sid) => {
      const key = (globalThis as any).sessionStorage.getItem('switchboard.apiKey');
      const res = await fetch(`/admin/calls/${sid}`, { method: 'DELETE', headers: { authorization: `Bearer ${key}` } });
      return res.status;
    }, other);
    expect(status).toBe(403);
    const { rows } = await system.db.query('SELECT text FROM turns WHERE "callSid" = $1', [other]);
    expect(rows[0].text).toBe('hello there');
  }, 30_000);
});
