// `npm run bench`: every benchmark suite, one after another (never two at once on
// a 2-core machine), each printing a table of ratios to its in-run baseline.
// usage: node bench/run.ts [dns ...]

import { ensureTools, findTool } from '../proxy/e2e/support/tools.ts'
import { accessLogBench } from './access-log.ts'
import { diffBench } from './diff.ts'
import { dnsBench } from './dns.ts'
import { httpBench } from './http.ts'
import { overloadBench } from './overload.ts'
import { recordsBench } from './records.ts'
import { restartBench } from './restart.ts'
import { rolloutBench } from './rollout.ts'
import { tlsBench } from './tls.ts'
import { websocketBench } from './websocket.ts'

const SUITES: Record<string, () => Promise<string>> = {
  dns: dnsBench,
  http: httpBench,
  tls: tlsBench,
  rollout: rolloutBench,
  diff: diffBench,
  restart: restartBench,
  records: recordsBench,
  websocket: websocketBench,
  'access-log': accessLogBench,
  overload: overloadBench,
}

const wanted = process.argv.slice(2)
for (const name of wanted)
  if (!SUITES[name])
    throw new Error(`unknown suite '${name}'; suites: ${Object.keys(SUITES).join(', ')}`)
ensureTools(['named', 'nginx', 'dnsperf', 'wrk'])
if (!findTool('taskset'))
  throw new Error('the benchmarks need taskset: apt-get install -y util-linux')
/** The overload suite holds cutover to part of a core with a cgroup: root only, so left out of a plain run without it. */
const all = Object.keys(SUITES).filter((name) => name !== 'overload' || process.getuid?.() === 0)
if (!wanted.length && all.length < Object.keys(SUITES).length)
  process.stderr.write('overload: left out, it needs root (npm run bench -- overload as root)\n')
for (const name of wanted.length ? wanted : all) {
  process.stderr.write(`${name}:\n`)
  process.stdout.write(`\n${await SUITES[name]()}\n`)
}
