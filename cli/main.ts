// The `cutover` command: parses arguments and calls the parts that do the work.
// Exit codes: 0 done, 1 failed at run time, 2 usage or configuration error.

import { flushCompileCache } from 'node:module'
import { CutoverError } from '../common/cutover-error.ts'
import { COMMAND_HELP } from './help.ts'

const USAGE = `usage: cutover <command> [options]

commands:
  start --config FILE     run the proxy in the foreground (SIGTERM or 'cutover stop' ends it)
  stop [--config FILE]    drain and stop the proxy started with that config, and wait for it to exit
  restart --config FILE   a new generation of workers takes over; the old one drains (no request lost)
  reload --config FILE    workers re-read the config, rollout state and zones in place
  upgrade --config FILE   a new supervisor from the code on disk takes the sockets over; the old one drains
  check --config FILE     validate the config and load its zones, then exit
  rollout ...             status, set, plan, pause, resume, abort, promote, history ('cutover rollout help')
  diff SUITE... [options] compare the legacy with the new path case by case ('cutover diff --help')
  diff generate ...       write a suite from a zone file or a site's rules
  quickstart [--config F] the demo: proxy plus demo legacy on loopback (what 'npm start' runs)

'cutover <command> --help' tells more of each.
`

type Command = (args: string[]) => Promise<number>

// Each command loads only its own modules: `cutover stop` need not compile the proxy.
const commands: Record<string, () => Promise<Command>> = {
  start: async () => (await import('./start.ts')).startCommand,
  stop: async () => (await import('./control.ts')).stopCommand,
  restart: async () => (await import('./control.ts')).restartCommand,
  reload: async () => (await import('./control.ts')).reloadCommand,
  upgrade: async () => (await import('./control.ts')).upgradeCommand,
  check: async () => (await import('./check.ts')).checkCommand,
  quickstart: async () => (await import('./quickstart.ts')).quickstartCommand,
  rollout: async () => (await import('./rollout.ts')).rolloutCommand,
  diff: async () => (await import('./diff.ts')).diffCommand,
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE)
    return name === undefined ? 2 : 0
  }
  const load = commands[name]
  if (!load) {
    process.stderr.write(`cutover: unknown command '${name}'\n\n${USAGE}`)
    return 2
  }
  // diff has its own, covering diff generate too.
  const help = COMMAND_HELP[name]
  if (help !== undefined && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(`${help}\n`)
    return 0
  }
  const command = await load()
  // Its modules are compiled by now: a supervisor or a worker would write their code cache only at exit.
  flushCompileCache()
  return command(rest)
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    const usage =
      err instanceof CutoverError && (err.source === 'config' || err.code === 'CUTOVER_ERR_USAGE')
    process.stderr.write(`cutover: ${err instanceof Error ? err.message : String(err)}\n`)
    // A command that failed half way (a start whose workers did not all come up)
    // may still hold sockets and timers: it ends here rather than hang.
    process.exit(usage ? 2 : 1)
  },
)
