// The embedded record event log: a journal file of JSON lines, one event each,
// appended by the admin API or by any tool (an O_APPEND write of one line is
// atomic). An event's sequence is its line number (`<n>-0`). A line still being
// written (no newline yet) waits for its newline.

import { closeSync, existsSync, openSync, readSync, statSync, watch, writeSync } from 'node:fs'
import { basename, dirname } from 'node:path'
import type { Sequence } from '../../modules/authoritative/record-event.ts'
import type { LogEntry, RecordLog } from './record-log.ts'

const POLL_MS = 200
const CHUNK = 1 << 20

/** A reader that remembers where it stopped: byte offset, lines seen, a partial line. */
function reader(file: string) {
  let offset = 0
  let line = 0
  let partial = ''
  return {
    get line() {
      return line
    },
    /** Hands on the whole lines past where it stopped; returns why it cannot, if it cannot. */
    read(each: (entry: LogEntry) => void, after = 0): string | undefined {
      if (!existsSync(file)) return undefined
      const size = statSync(file).size
      if (size < offset)
        return `the journal ${file} shrank (from ${offset} to ${size} bytes): it may only grow; restart to read it again`
      if (size === offset) return undefined
      const fd = openSync(file, 'r')
      try {
        const buf = Buffer.allocUnsafe(CHUNK)
        while (offset < size) {
          const n = readSync(fd, buf, 0, Math.min(CHUNK, size - offset), offset)
          if (n === 0) break
          offset += n
          const lines = (partial + buf.toString('utf8', 0, n)).split('\n')
          partial = lines.pop() ?? ''
          for (const text of lines) {
            line++
            if (line > after && text.trim() !== '') each({ sequence: `${line}-0`, text })
          }
        }
      } finally {
        closeSync(fd)
      }
      return undefined
    },
  }
}

const lineOf = (s: Sequence) => Number(s.split('-')[0])

export function journalLog(file: string): RecordLog {
  let broken: string | undefined
  let follower: ReturnType<typeof reader> | undefined
  let timer: NodeJS.Timeout | undefined
  let watcher: ReturnType<typeof watch> | undefined

  return {
    describe: () => `journal ${file}`,
    async replay(after, each, claimed) {
      const r = reader(file)
      const why = r.read(each, lineOf(after))
      if (why) throw new Error(why)
      if (r.line < lineOf(claimed))
        throw new Error(
          `the journal ${file} has ${r.line} lines, but the zones' snapshots were taken at line ${lineOf(claimed)}: the journal was replaced since. Remove the snapshots folder to build from the master files and this journal`,
        )
    },
    follow(after, each) {
      const r = reader(file)
      follower = r
      const look = () => {
        broken = r.read(each, lineOf(after))
      }
      look()
      try {
        watcher = watch(dirname(file), (_event, name) => {
          if (name === basename(file)) look()
        })
        watcher.unref()
      } catch {
        // The poll below still sees it grow.
      }
      timer = setInterval(look, POLL_MS)
      timer.unref()
    },
    async append(text) {
      const fd = openSync(file, 'a')
      try {
        writeSync(fd, `${text}\n`)
      } finally {
        closeSync(fd)
      }
    },
    // Read as soon as written: the follower is at most one poll behind.
    async lag(position) {
      return { events: Math.max(0, (follower?.line ?? 0) - lineOf(position)), seconds: 0 }
    },
    health: () => (broken ? { ok: false, detail: broken } : { ok: true }),
    async close() {
      clearInterval(timer)
      watcher?.close()
    },
  }
}
