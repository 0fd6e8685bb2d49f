// The operator's console in a real browser (Debian's Chromium through
// playwright-core) against a supervised cutover: sign in with the admin token,
// see the scopes, drive a plan from the page, watch the automatic rollback
// appear with its reason while the new path's origin is down, take a big jump
// only after confirming it; a viewer's token sees all and changes nothing, and
// a change without the session's CSRF token is refused. Screenshots of the
// main pages are kept in test-artifacts/console/.

import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Browser, launchBrowser } from './support/browser.ts'
import { freePort } from './support/free-port.ts'
import { type NginxServer, startNginx } from './support/nginx.ts'
import { type SupervisedProxy, startSupervised } from './support/supervised.ts'

const SCOPE = 'http:shop.e2e.test'
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'console')

let dir: string
let legacy: NginxServer
let proxy: SupervisedProxy
let httpPort: number
let admin: string
let viewerToken: string
let operator: Browser
let viewer: Browser

/** `count` requests to `host`, each from another user (so the sticky split spreads them). */
async function traffic(count: number, host = 'shop.e2e.test'): Promise<void> {
  for (let i = 0; i < count; i++)
    await new Promise<void>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: httpPort,
          path: '/',
          headers: { host, 'x-user': `user-${i}` },
        },
        (res) => res.resume().once('end', resolve),
      )
      req.once('error', reject)
      req.end()
    })
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${admin}/`)
  await page.fill('input[name=token]', token)
  await page.click('button[type=submit]')
  await page.locator(`tr[data-scope="${SCOPE}"]`).waitFor()
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cutover-console-'))
  mkdirSync(ARTIFACTS, { recursive: true })
  const legacyPort = await freePort()
  legacy = await startNginx(
    `server { listen 127.0.0.1:${legacyPort}; location / { return 200 "legacy\\n"; } }`,
    [legacyPort],
  )
  httpPort = await freePort()
  proxy = await startSupervised({
    workers: 1,
    admin: { tokens: [{ name: 'dana', file: join(dir, 'viewer-token'), role: 'viewer' }] },
    rollout: { gates: { minSamples: 10 } },
    tls: { certificates: [{ selfSigned: ['shop.e2e.test'] }] },
    http: {
      listen: `127.0.0.1:${httpPort}`,
      tls: { listen: `127.0.0.1:${await freePort()}` },
      legacy: { url: `http://127.0.0.1:${legacyPort}` },
      doh: false,
      // Nothing listens at the origin: every new-path request fails (502), and the gate sees it.
      sites: [
        {
          host: 'shop.e2e.test',
          origin: 'http://127.0.0.1:9',
          percent: 0,
          stickiness: 'header:x-user',
        },
        // All on the legacy, all compared with the new path (whose origin is down).
        { host: 'news.e2e.test', origin: 'http://127.0.0.1:9', percent: 0, shadow: 100 },
      ],
    },
  })
  admin = `http://127.0.0.1:${proxy.adminPort}`
  viewerToken = readFileSync(join(dir, 'viewer-token'), 'utf8').trim()
  operator = await launchBrowser(dir, 'operator')
  viewer = await launchBrowser(dir, 'viewer')
}, 60_000)

afterAll(async () => {
  await operator?.context.close()
  await viewer?.context.close()
  proxy?.cleanup()
  await legacy?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('the console', () => {
  it('weighs under 200 KiB and loads nothing from elsewhere', async () => {
    let bytes = 0
    for (const path of [
      '/',
      ...['app', 'dom', 'chart', 'scope-page'].map((m) => `/console/${m}.js`),
      '/console/app.css',
    ]) {
      const res = await fetch(`${admin}${path}`)
      expect(res.status, path).toBe(200)
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'")
      bytes += (await res.arrayBuffer()).byteLength
    }
    expect(bytes).toBeLessThan(200 * 1024)
  })

  it('signs in with the admin token into an HttpOnly cookie and shows the scopes', async () => {
    const { page } = operator
    await page.goto(`${admin}/`)
    await page.fill('input[name=token]', 'not-the-token')
    await page.click('button[type=submit]')
    await expect.poll(() => page.textContent('#notice')).toContain('no admin token matches')
    // The browser reports the refused sign-in (403) as a failed load: that one was meant.
    operator.problems.length = 0
    await signIn(page, proxy.token)
    const cookie = (await operator.context.cookies()).find((c) => c.name === 'cutover_session')
    expect(cookie?.httpOnly).toBe(true)
    expect(cookie?.sameSite).toBe('Strict')
    expect(await page.textContent(`tr[data-scope="${SCOPE}"] .percent`)).toBe('0%')
    // No traffic yet: no figure pretends to be a measurement.
    expect(await page.textContent(`tr[data-scope="${SCOPE}"]`)).toContain('no data')
    await page.screenshot({ path: join(ARTIFACTS, 'scopes.png'), fullPage: true })
  })

  it('drives a plan from the page and shows the automatic rollback with its reason', async () => {
    const { page } = operator
    await page.click(`a[href="#/scope/${encodeURIComponent(SCOPE)}"]`)
    await page.fill('input[name=reason]', 'first canary')
    await page.fill('input[name=steps]', '10,50')
    await page.fill('input[name=bake]', '1h')
    await page.click('button[name=plan]')
    await expect.poll(() => page.textContent('#notice')).toBe('Plan: done.')
    await expect.poll(() => page.textContent('.plan-status')).toContain('Plan running, step 1 of 2')
    expect(await page.textContent('h2 .percent')).toBe('10%')
    await page.screenshot({ path: join(ARTIFACTS, 'plan-running.png'), fullPage: true })

    await traffic(300)
    // The controller judges once a second; the page follows the state it streams.
    await expect
      .poll(() => page.textContent('.plan-status'), { timeout: 15_000 })
      .toMatch(/Plan paused, step 1 of 2: rolled back: error-rate 100\.00% over 0\.01/)
    expect(await page.textContent('h2 .percent')).toBe('0%')
    await expect
      .poll(() => page.textContent('tr.history-rollback .why'), { timeout: 10_000 })
      .toMatch(/error-rate 100\.00% over 0\.01 .*\[error-rate 100\.00% > 1\.00%/)
    expect(await page.textContent('tr.history-plan .why')).toContain('first canary (plan 10,50')
    // The origin failed (502s): errors of the new path, not fallbacks to the legacy.
    expect(await page.textContent('.fallback-reasons')).toBe(
      'Fallbacks to the legacy since start: none',
    )
    await page.screenshot({ path: join(ARTIFACTS, 'rolled-back.png'), fullPage: true })
    expect(operator.problems).toEqual([])
  }, 40_000)

  it('asks for a confirmation before a jump of more than 25 points', async () => {
    const { page } = operator
    await page.fill('input[name=reason]', 'all in')
    await page.fill('input[name=percent]', '60')
    await page.click('button[name=set]')
    await page.locator('.confirm').waitFor()
    expect(await page.textContent('h2 .percent')).toBe('0%')
    await page.click('button[name=confirm]')
    await expect.poll(() => page.textContent('h2 .percent')).toBe('60%')
    const history = (await (await fetch(`${admin}/history?scope=${SCOPE}`)).json()) as {
      entries: { by: string; why: string; to: number }[]
    }
    expect(history.entries.at(-1)).toMatchObject({ by: 'admin', why: 'all in', to: 6000 })
  })

  it('refuses a change without the CSRF token, even with the session cookie, which alone cannot get it', async () => {
    // The cookie goes to every port of the host: what it alone can read must not carry the token.
    const session = await operator.page.evaluate(async () =>
      (await fetch('/console/session')).json(),
    )
    expect(session).toEqual({ signedIn: true, name: 'admin', role: 'operator' })
    const status = await operator.page.evaluate(async (scope) => {
      const res = await fetch(`/rollout/${encodeURIComponent(scope)}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ percent: 0, reason: 'forged' }),
      })
      return res.status
    }, SCOPE)
    expect(status).toBe(403)
  })

  it("shows a viewer's token everything, and lets it change nothing", async () => {
    const { page } = viewer
    await signIn(page, viewerToken)
    await page.click(`a[href="#/scope/${encodeURIComponent(SCOPE)}"]`)
    await page.getByText('Read only').waitFor()
    expect(await page.locator('button[name=plan]').count()).toBe(0)
    expect(viewer.problems).toEqual([])
    const status = await page.evaluate(async (scope) => {
      const csrf = sessionStorage.getItem('cutover-csrf') ?? ''
      const res = await fetch(`/rollout/${encodeURIComponent(scope)}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify({ percent: 0, reason: 'viewer' }),
      })
      return res.status
    }, SCOPE)
    expect(status).toBe(403)
    await page.click('a[href="#/fleet"]')
    await page.getByText('Workers').waitFor()
    await expect
      .poll(() => page.textContent('p.certificate'), { timeout: 10_000 })
      .toMatch(/^Certificate shop\.e2e\.test: expires in 39[78]\.\d days$/)
    expect(await page.textContent('main')).not.toMatch(/null|undefined/)
    await page.screenshot({ path: join(ARTIFACTS, 'fleet.png'), fullPage: true })
  })

  it('shows what the shadow comparison found: the fields that differ and example pairs', async () => {
    await traffic(5, 'news.e2e.test')
    const { page } = operator
    await page.click('a[href="#/"]')
    await page.click(`a[href="#/scope/${encodeURIComponent('http:news.e2e.test')}"]`)
    await expect
      .poll(() => page.textContent('section:has(.example) h2'), { timeout: 10_000 })
      .toMatch(/^Shadow \(100%\): [1-5] of [1-5] compared differed$/)
    expect(await page.textContent('.example')).toMatch(/status: 200 → 502/)
    // Each example: the legacy's answer and the new path's, side by side.
    expect(await page.locator('.example').first().locator('.pair pre').allTextContents()).toEqual([
      expect.stringMatching(/^legacy\n200\n/),
      expect.stringMatching(/^new path\n502\n/),
    ])
    await page.screenshot({ path: join(ARTIFACTS, 'shadow.png'), fullPage: true })
  })

  it('lists the diff runs uploaded, each linked to its report', async () => {
    const upload = await fetch(`${admin}/diff-reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${proxy.token}` },
      body: JSON.stringify({
        suites: ['suites/shop.yaml'],
        totals: { cases: 40, match: 38, mismatch: 2, error: 0 },
        html: '<!doctype html><title>report</title><p>2 mismatches</p>',
      }),
    })
    expect(upload.status).toBe(201)
    const { page } = operator
    await page.click('a[href="#/diffs"]')
    const row = page.locator('tr.diff-run')
    await row.waitFor()
    expect(await row.textContent()).toContain('suites/shop.yaml')
    expect(await row.locator('td.breached').allTextContents()).toEqual(['2'])
    const href = await row.locator('a').getAttribute('href')
    expect(await (await fetch(`${admin}${href}`)).text()).toContain('2 mismatches')
    await page.screenshot({ path: join(ARTIFACTS, 'diff-runs.png'), fullPage: true })
    await page.click(`a[href="#/"]`)
    await page.click(`a[href="#/scope/${encodeURIComponent(SCOPE)}"]`)
  })

  it('follows a change made elsewhere without a reload, and signs out', async () => {
    const { page } = operator
    const put = await fetch(`${admin}/rollout/${encodeURIComponent(SCOPE)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${proxy.token}` },
      body: JSON.stringify({ percent: 5, reason: 'from the CLI' }),
    })
    expect(put.status).toBe(200)
    await expect.poll(() => page.textContent('h2 .percent')).toBe('5%')
    await page.click('#who button')
    await page.locator('input[name=token]').waitFor()
    const res = await page.evaluate(async () => (await fetch('/console/state')).status)
    expect(res).toBe(401)
    expect(await page.evaluate(async () => (await fetch('/console/session')).json())).toEqual({
      signedIn: false,
    })
  })
})
