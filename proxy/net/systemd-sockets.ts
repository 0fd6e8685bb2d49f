// Sockets from systemd's socket activation (sd_listen_fds): descriptors 3 and
// up, LISTEN_FDS of them, meant for this process when LISTEN_PID is its pid.
// Each is matched to the config's listener at the address it is bound to, so
// the .socket unit needs no names; one that matches no listener is an error
// naming it, since a socket nobody serves would take connections and never
// answer them. Listeners systemd did not pass are bound as usual.

import { CutoverError } from '../../common/cutover-error.ts'
import type { Config } from '../config/config.ts'
import type { HostPort } from '../config/units.ts'
import { handleOfFd, type ListenRole, type ListenSocket, socketAt } from './listen-sockets.ts'

const FIRST_FD = 3

/** Each listen address of `config` with its role. */
function listenersOf(config: Config): { role: ListenRole; at: HostPort }[] {
  const all: { role: ListenRole; at: HostPort | undefined }[] = [
    { role: 'dns', at: config.dns?.listen },
    { role: 'candidate', at: config.dns?.candidateListen },
    { role: 'dot', at: config.dns?.tls?.listen },
    { role: 'http', at: config.http?.listen },
    { role: 'https', at: config.http?.tls?.listen },
    { role: 'admin', at: config.admin.listen },
    { role: 'metrics', at: config.metrics?.listen },
  ]
  return all.flatMap((l) => (l.at ? [{ role: l.role, at: l.at }] : []))
}

/** The sockets systemd passed this process, each for its listener; none when it passed none. */
export function systemdSockets(config: Config, env = process.env): ListenSocket[] {
  const count = Number(env.LISTEN_FDS ?? 0)
  if (env.LISTEN_PID !== String(process.pid) || !(count > 0)) return []
  // Read once: the workers and a successor must not take them for theirs.
  delete env.LISTEN_PID
  delete env.LISTEN_FDS
  delete env.LISTEN_FDNAMES
  const listeners = listenersOf(config)
  const sockets: ListenSocket[] = []
  for (let fd = FIRST_FD; fd < FIRST_FD + count; fd++) {
    const opened = handleOfFd(fd)
    if (!opened)
      throw new CutoverError(
        'CONFIG_INVALID',
        `systemd passed descriptor ${fd}, which is neither a TCP nor a UDP socket: list only ListenStream= and ListenDatagram= sockets in the .socket unit`,
      )
    const bound = socketAt(opened.handle)
    const listener = listeners.find((l) => l.at.host === bound.host && l.at.port === bound.port)
    // Only the DNS listeners take datagrams.
    if (
      !listener ||
      (opened.kind === 'udp' && listener.role !== 'dns' && listener.role !== 'candidate')
    )
      throw new CutoverError(
        'CONFIG_INVALID',
        `systemd passed a ${opened.kind.toUpperCase()} socket on ${bound.host}:${bound.port} that no listener of ${config.file} has: make the .socket unit and the config name the same addresses`,
      )
    sockets.push({
      kind: opened.kind,
      role: listener.role,
      at: listener.at,
      port: bound.port,
      handle: opened.handle,
    })
  }
  return sockets
}
