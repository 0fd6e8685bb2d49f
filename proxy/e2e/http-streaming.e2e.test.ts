// End to end: bodies stream through the proxy, they never sit in its memory. The
// real entry point runs in a child process with a 64 MiB heap; 256 MiB go up to
// an upstream that hashes them and 256 MiB come down from one that generates
// them, on both paths. The hashes must match, the child must stay alive, and its
// peak resident memory must grow by well under one body.

import { type ChildProcess, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { type Handler, startUpstream, type TestUpstream, within } from './support/upstream.ts'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const CLI = join(ROOT, 'cli', 'cutover.ts')
const SITE = 'www.stream.test'
const PATHS = [
  { path: 'new', host: SITE },
  { path: 'legacy', host: 'nosite.stream.test' },
] as const

const CHUNK = 1024 * 1024
const CHUNKS = 256
const TOTAL = CHUNK * CHUNKS
/** Half a body: how much the child's peak resident memory may grow while bodies pass. */
const MAX_PEAK_GROWTH = TOTAL / 2

// The body: 256 different MiB (a random MiB stamped with its index), and its hash.
const BASE = randomBytes(CHUNK)
function chunkAt(i: number): Buffer {
  const b = Buffer.from(BASE)
  b.writeUInt32BE(i, 0)
  return b
}
const EXPECTED = (() => {
  const hash = createHash('sha256')
  for (let i = 0; i < CHUNKS; i++) hash.update(chunkAt(i))
  return hash.digest('hex')
})()

/** Hashes a POSTed body and answers with its length and hash; streams the body for a GET. */
const hashOrGenerate: Handler = (req, res) => {
  if (req.method === 'POST') {
    const hash = createHash('sha256')
    let bytes = 0
    req.on('data', (d: Buffer) => {
      hash.update(d)
      bytes += d.length
    })
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') }))
    })
    return
  }
  req.resume()
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': TOTAL })
  let i = 0
  const pump = () => {
    while (i < CHUNKS && !res.destroyed) {
      if (!res.write(chunkAt(i++))) {
        res.once('drain', pump)
        return
      }
    }
    if (i === CHUNKS) res.end()
  }
  pump()
}

let child: ChildProcess
let exited: Promise<number | null>
let port: number
/** The child's peak resident memory once it serves, before any body. */
let basePeak: number
let dir: string
let origin: TestUpstream
let legacy: TestUpstream

beforeAll(async () => {
  origin = await startUpstream(hashOrGenerate)
  legacy = await startUpstream(hashOrGenerate)
  dir = mkdtempSync(join(tmpdir(), 'cutover-stream-'))
  const config = join(dir, 'cutover.yaml')
  writeFileSync(
    config,
    stringify({
      http: {
        listen: '127.0.0.1:0',
        legacy: { url: legacy.url },
        doh: false,
        sites: [
          {
            host: SITE,
            origin: origin.url,
            percent: 100,
            rules: [{ type: 'headers', response: { set: { 'X-Served-By': 'cutover' } } }],
          },
        ],
      },
      admin: { listen: '127.0.0.1:0' },
      state: join(dir, 'state'),
      log: { level: 'info' },
    }),
  )
  child = spawn(process.execPath, ['--max-old-space-size=64', CLI, 'start', '--config', config], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)))
  let output = ''
  const serving = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d) => {
      output += d
      const line = output.split('\n').find((l) => l.includes('cutover is serving'))
      if (line) resolve(line)
    })
    child.stderr?.on('data', (d) => {
      output += d
    })
    exited.then((code) => reject(new Error(`the proxy exited with ${code}:\n${output}`)))
  })
  const line = await within(serving, 15_000, 'the proxy serving')
  port = Number(/:(\d+)$/.exec(JSON.parse(line).http)![1])
  basePeak = peakRss()
})

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM')
    await within(exited, 10_000, 'the proxy stopping').catch(() => child.kill('SIGKILL'))
  }
  await origin?.stop()
  await legacy?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/**
 * POSTs the 256 MiB body with backpressure, with a Content-Length or chunked;
 * returns the status and the upstream's account of what it received.
 */
async function upload(
  host: string,
  framing: 'length' | 'chunked' = 'length',
): Promise<{ status: number; seen: unknown }> {
  const headers: Record<string, string | number> = {
    host,
    'content-type': 'application/octet-stream',
  }
  if (framing === 'length') headers['content-length'] = TOTAL
  const req = httpRequest({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/upload',
    agent: false,
    headers,
  })
  const response = once(req, 'response') as Promise<[IncomingMessage]>
  for (let i = 0; i < CHUNKS; i++) if (!req.write(chunkAt(i))) await once(req, 'drain')
  req.end()
  const [res] = await response
  let text = ''
  for await (const d of res) text += d
  return { status: res.statusCode ?? 0, seen: JSON.parse(text) }
}

/** GETs the generated body, hashing it as it arrives. */
async function download(
  host: string,
): Promise<{ status: number; servedBy: unknown; bytes: number; sha256: string }> {
  const req = httpRequest({
    host: '127.0.0.1',
    port,
    path: '/download',
    agent: false,
    headers: { host },
  })
  req.end()
  const [res] = (await once(req, 'response')) as [IncomingMessage]
  const hash = createHash('sha256')
  let bytes = 0
  for await (const d of res) {
    hash.update(d)
    bytes += d.length
  }
  return {
    status: res.statusCode ?? 0,
    servedBy: res.headers['x-served-by'],
    bytes,
    sha256: hash.digest('hex'),
  }
}

/** The child's peak resident set size, from /proc. */
function peakRss(): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
  return Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)![1]) * 1024
}

describe('bodies larger than the heap stream through a proxy with a 64 MiB heap', () => {
  describe.each(PATHS)('on the $path path', ({ path, host }) => {
    const upstream = () => (path === 'new' ? origin : legacy)

    it('uploads 256 MiB to an upstream that hashes it', { timeout: 30_000 }, async () => {
      const asked = upstream().requests
      const { status, seen } = await upload(host)
      expect(status).toBe(200)
      expect(seen).toEqual({ bytes: TOTAL, sha256: EXPECTED })
      expect(upstream().requests).toBe(asked + 1)
      expect(child.exitCode).toBeNull()
    })

    it('downloads 256 MiB from an upstream that generates it', { timeout: 30_000 }, async () => {
      const got = await download(host)
      expect(got).toEqual({
        status: 200,
        servedBy: path === 'new' ? 'cutover' : undefined,
        bytes: TOTAL,
        sha256: EXPECTED,
      })
      expect(child.exitCode).toBeNull()
    })
  })

  it('uploads 256 MiB chunked, without a Content-Length', { timeout: 30_000 }, async () => {
    const { status, seen } = await upload(SITE, 'chunked')
    expect(status).toBe(200)
    expect(seen).toEqual({ bytes: TOTAL, sha256: EXPECTED })
    expect(child.exitCode).toBeNull()
  })

  it('kept its peak memory growth well under one body, and stops cleanly', async () => {
    expect(peakRss() - basePeak).toBeLessThan(MAX_PEAK_GROWTH)
    child.kill('SIGTERM')
    expect(await within(exited, 10_000, 'the proxy stopping')).toBe(0)
  })
})
