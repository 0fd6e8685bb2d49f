// The real servers and clients the end-to-end tests run (BIND 9, nginx, HAProxy,
// Redis, dig, openssl): found on PATH or in sbin, installed with apt when missing and
// running as root, otherwise a clear error naming what to install.

import { execFileSync } from 'node:child_process'
import { existsSync, rmSync, writeFileSync } from 'node:fs'

/** Binary name -> the Debian package that provides it. */
const PACKAGES: Record<string, string> = {
  named: 'bind9',
  'named-compilezone': 'bind9-utils',
  'named-checkzone': 'bind9-utils',
  'dnssec-keygen': 'bind9-utils',
  'dnssec-signzone': 'bind9-utils',
  dig: 'bind9-dnsutils',
  delv: 'bind9-dnsutils',
  nsupdate: 'bind9-dnsutils',
  openssl: 'openssl',
  h2load: 'nghttp2-client',

  nginx: 'nginx-light',
  haproxy: 'haproxy',
  'redis-server': 'redis-server',
  chromium: 'chromium',
  'systemd-socket-activate': 'systemd',
  promtool: 'prometheus',
  prometheus: 'prometheus',
}

/** The load generators only the benchmarks run. */
const BENCH_PACKAGES: Record<string, string> = { dnsperf: 'dnsperf', wrk: 'wrk' }

const DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin']

/** Absolute path of a tool's binary, or undefined. */
export function findTool(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(':'), ...DIRS]) {
    if (dir && existsSync(`${dir}/${name}`)) return `${dir}/${name}`
  }
  return undefined
}

/** Makes sure every tool is there; installs the missing ones when it can. */
export function ensureTools(names: readonly string[] = Object.keys(PACKAGES)): void {
  const missing = names.filter((n) => findTool(n) === undefined)
  if (missing.length === 0) return
  const packages = [...new Set(missing.map((n) => PACKAGES[n] ?? BENCH_PACKAGES[n]))]
  aptInstall(packages, `${missing.join(', ')} needed and not installed`)
  const still = names.filter((n) => findTool(n) === undefined)
  if (still.length > 0)
    throw new Error(
      `apt-get installed ${packages.join(' ')} but ${still.join(', ')} is still missing`,
    )
}

/** Makes sure `file` (a library, a module) is there; installs `pkg` when it can. */
export function ensureFile(file: string, pkg: string): void {
  if (existsSync(file)) return
  aptInstall([pkg], `end-to-end tests need ${file}`)
  if (!existsSync(file)) throw new Error(`apt-get installed ${pkg} but ${file} is still missing`)
}

/** Installs `packages` with apt when running as root with apt; otherwise throws `need` and the command to run. */
function aptInstall(packages: readonly string[], need: string): void {
  const canInstall = process.getuid?.() === 0 && findTool('apt-get') !== undefined
  if (!canInstall) {
    throw new Error(`${need}; install them with: sudo apt-get install -y ${packages.join(' ')}`)
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
  // policy-rc.d keeps the packages' own services from starting on the default ports.
  const policy = '/usr/sbin/policy-rc.d'
  const ownPolicy = !existsSync(policy)
  if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 })
  try {
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
      stdio: 'inherit',
      env,
    })
  } finally {
    if (ownPolicy) rmSync(policy, { force: true })
  }
}
