// The proxy's logger: pino, JSON lines on stdout, one field per module/listener.

import { type Logger, pino } from 'pino'

export type { Logger }

export function createLogger(level: string): Logger {
  return pino({ level, base: { pid: process.pid } })
}
