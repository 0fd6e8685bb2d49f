// Each command's help, for `cutover <command> --help` (exit 0): what it does,
// its options, and what its exit codes mean.

import { ROLLOUT_USAGE } from './rollout.ts'

const EXIT_CODES = `exit codes: 0 done, 1 failed at run time, 2 usage or configuration error`

const CONFIG = `  -c, --config FILE   the proxy's YAML config (see examples/quickstart.yaml)`

export const COMMAND_HELP: Record<string, string> = {
  start: `usage: cutover start --config FILE

Runs the proxy in the foreground: a supervisor and its workers (or one process
with workers: 0) until SIGTERM, SIGINT or 'cutover stop'. SIGHUP reloads,
SIGUSR2 restarts, SIGUSR1 reopens the access and query log files.

${CONFIG}

${EXIT_CODES}`,
  stop: `usage: cutover stop [--config FILE | --state DIR]

Drains the proxy started with that config (every request and query in flight
finishes) and waits for it to exit. A proxy that is not running is not an error.

${CONFIG}
  --state DIR         its state folder instead (default .cutover)

${EXIT_CODES}`,
  restart: `usage: cutover restart --config FILE

A new generation of workers starts from the code and config on disk; once it is
ready the old one drains, handing its DNS-over-TCP connections over. Nothing in
flight is lost. Waits until it is done.

${CONFIG}

${EXIT_CODES}`,
  reload: `usage: cutover reload --config FILE

Every worker re-reads the config, zones, certificates and rollout state in
place; a config that does not validate is refused and the old one keeps
serving. Waits until it is done.

${CONFIG}

${EXIT_CODES}`,
  upgrade: `usage: cutover upgrade --config FILE

Replaces the supervisor itself, for a new cutover or Node version on disk: a
new supervisor starts from the code on disk, takes the listening sockets over
(passed over a Unix socket, never closed), the session ticket key, the rollout
plans and the counters; once its workers are ready the old supervisor drains
its workers into the new ones and exits. If the new one fails to start, the
old one serves on and this says why. Waits until the old one has exited.

${CONFIG}

${EXIT_CODES}`,
  check: `usage: cutover check --config FILE

Validates the config, loads its zones and certificates, and says which scopes
the new path can serve; starts nothing.

${CONFIG}

${EXIT_CODES}`,
  quickstart: `usage: cutover quickstart [--config FILE]

The demo on loopback: the proxy with a demo DNS and HTTP legacy and origin
(what 'npm start' runs). Ctrl-C stops it.

  -c, --config FILE   default examples/quickstart.yaml

${EXIT_CODES}`,
  rollout: `${ROLLOUT_USAGE}\n\n${EXIT_CODES}`,
}
