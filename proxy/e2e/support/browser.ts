// Headless Debian Chromium through playwright-core, for the pages cutover
// serves or writes (the console, the diff report): a fresh profile in `dir`,
// nothing fetched from the network but what the page asks for, and a step that
// is not done in seconds failing rather than hanging.

import { join } from 'node:path'
import { type BrowserContext, chromium, type Page } from 'playwright-core'

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export interface Browser {
  context: BrowserContext
  page: Page
  /** Page errors and console errors or warnings, as they came. */
  problems: string[]
}

export async function launchBrowser(dir: string, name = 'profile'): Promise<Browser> {
  // A persistent context is how playwright takes a --user-data-dir: a fresh one in the temp folder.
  const context = await chromium.launchPersistentContext(join(dir, name), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  })
  const page = context.pages()[0] ?? (await context.newPage())
  // Everything is local: a step that is not done in seconds will not be done.
  page.setDefaultTimeout(10_000)
  const problems: string[] = []
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console: ${m.text()}`)
  })
  return { context, page, problems }
}
