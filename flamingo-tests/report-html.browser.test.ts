// The HTML report in a real browser (headless Chromium through playwright-core):
// the groups show, a group expands to its side-by-side example, and the page
// loads nothing but itself. The test setup installs Chromium when it is missing.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { BrowserContext, Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchBrowser } from '../proxy/e2e/support/browser.ts'
import { ODD_DNS_ID, sampleReport } from './report-fixture.ts'
import { renderHtml } from './report-html.ts'

let dir: string
let url: string
let context: BrowserContext | undefined
let page: Page
const requests: string[] = []
const failed: string[] = []
let problems: string[] = []

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cutover-report-html-'))
  const file = join(dir, 'report.html')
  writeFileSync(file, renderHtml(sampleReport()))
  url = pathToFileURL(file).href
  const browser = await launchBrowser(dir)
  context = browser.context
  page = browser.page
  problems = browser.problems
  page.on('request', (r) => requests.push(r.url()))
  page.on('requestfailed', (r) => failed.push(`${r.url()}: ${r.failure()?.errorText}`))
  await page.goto(url, { waitUntil: 'load' })
})

afterAll(async () => {
  await context?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

function groupNamed(label: string): Locator {
  return page.locator('details.group', {
    has: page.locator(':scope > summary .label', { hasText: label }),
  })
}

function isOpen(details: Locator): Promise<boolean> {
  // The tsconfig has no DOM types; `open` is the <details> element's own property.
  return details.evaluate((d) => (d as unknown as { open: boolean }).open)
}

describe('the HTML report in Chromium', () => {
  it('shows the verdict, the totals and each group with its label and count', async () => {
    expect(await page.title()).toBe('cutover diff FAIL: dns-basic, http-sites')
    const summaries = page.locator('details.group > summary')
    expect(await summaries.allInnerTexts()).toEqual([
      'TTL in answer ×3 answer.ttl',
      'record data in answer ×1 answer.rdata',
      'header cache-control ×1 header.cache-control',
    ])
    expect(await summaries.first().isVisible()).toBe(true)
    const totals = await page.locator('.totals').innerText()
    expect(totals).toContain('4\nmismatching')
  })

  it('expands a group to its example side by side, the differing words highlighted', async () => {
    const group = groupNamed('TTL in answer')
    const table = group.locator('table.side-by-side')
    expect(await isOpen(group)).toBe(false)
    expect(await table.isVisible()).toBe(false)
    await group.locator(':scope > summary').click()
    await table.waitFor({ state: 'visible' })
    expect(await isOpen(group)).toBe(true)
    expect(await table.locator('th').allInnerTexts()).toEqual([
      'legacy legacy (127.0.0.1:5301, :8081)',
      'candidate cutover (127.0.0.1:5300, :8080)',
    ])
    const changed = table.locator('tr.changed')
    expect(await changed.locator('td.legacy').innerText()).toBe(
      'answer: www.example.test 300 IN A 192.0.2.10',
    )
    expect(await changed.locator('td.candidate').innerText()).toBe(
      'answer: www.example.test 60 IN A 192.0.2.10',
    )
    expect(await changed.locator('mark').allInnerTexts()).toEqual(['300', '60'])
    // The two sides sit next to each other, on one row.
    const left = await changed.locator('td.legacy').boundingBox()
    const right = await changed.locator('td.candidate').boundingBox()
    expect(left && right && right.x > left.x && Math.abs(right.y - left.y) < 1).toBe(true)
    const hit = group.locator('table.fields tr.hit')
    expect(await hit.innerText()).toBe(
      'answer.ttl\twww.example.test IN A 300\twww.example.test IN A 60',
    )
    expect(await group.locator('.replay').innerText()).toContain(
      "candidate dig @127.0.0.1 -p 5300 +norec 'www.example.test' A",
    )
  })

  it('shows case ids with markup characters as text, and runs no script', async () => {
    const group = groupNamed('TTL in answer')
    if (!(await isOpen(group))) await group.locator(':scope > summary').click()
    await group.locator('details.cases > summary').click()
    expect(await group.locator('details.cases li').allInnerTexts()).toContain(ODD_DNS_ID)
    expect(await page.locator('script').count()).toBe(0)
    expect(await page.locator('#errors').innerText()).toContain(
      'legacy: connect ECONNREFUSED 127.0.0.1:8081',
    )
    expect(await page.locator('#expired').innerText()).toContain('bob')
  })

  it('loads nothing but itself: no other request, none failed, no console errors', () => {
    expect(requests).toEqual([url])
    expect(failed).toEqual([])
    expect(problems).toEqual([])
  })
})
