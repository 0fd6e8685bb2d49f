// Progress of a differential run: on a terminal one line redrawn in place (a bar,
// cases done of total, rate, mismatches so far); elsewhere, as in CI logs, a plain
// line every few seconds or every tenth of the run, and a last line at the end.

import type { Outcome } from './report-model.ts'
import { formatDuration, formatRate } from './report-text.ts'

/** What progress writes to: a `process.stderr`, or any fake with `write`. */
export interface ProgressStream {
  isTTY?: boolean
  /** Terminal width; lines are cut to fit so a redraw never wraps. */
  columns?: number
  write(s: string): unknown
}

export interface ProgressOptions {
  /** Clock in milliseconds; tests pass their own. */
  now?: () => number
  /** Off a terminal: a line at least this often while cases complete. Default 10 s. */
  everyMs?: number
  /** On a terminal: the line is redrawn at most this often. Default 100 ms. */
  redrawMs?: number
}

export interface Progress {
  /** One case finished with this outcome. */
  tick(outcome: Outcome): void
  /** The run is over: the final state, and the cursor on a new line. Later calls do nothing. */
  done(): void
}

const BAR_WIDTH = 24
const MIN_BAR_WIDTH = 8

/** A progress display for `total` cases on `stream`, a bar on a TTY, plain lines elsewhere. */
export function createProgress(
  total: number,
  stream: ProgressStream,
  options: ProgressOptions = {},
): Progress {
  const now = options.now ?? Date.now
  const tty = stream.isTTY === true
  const interval = tty ? (options.redrawMs ?? 100) : (options.everyMs ?? 10_000)
  const start = now()
  let count = 0
  let mismatches = 0
  let errors = 0
  let lastWrite = start
  let lastTenth = 0
  let finished = false
  let drawn = false

  const counts = () => `${mismatches} mismatching, ${errors} ${errors === 1 ? 'error' : 'errors'}`
  const percent = () => (total > 0 ? Math.floor((count * 100) / total) : 100)

  function ttyLine(at: number): string {
    const elapsed = at - start
    const rate = formatRate(count, elapsed)
    const left = total - count
    const eta =
      count > 0 && left > 0 && elapsed > 0
        ? ` · eta ${formatDuration((elapsed / count) * left)}`
        : ''
    const text = ` ${count}/${total} ${percent()}% · ${rate} cases/s · ${counts()}${eta}`
    // One column spare: writing into the last column wraps on some terminals.
    const width = Math.max((stream.columns ?? 80) - 1, 0)
    const barWidth = Math.min(BAR_WIDTH, width - text.length - 2)
    if (barWidth < MIN_BAR_WIDTH) return text.trimStart().slice(0, width)
    const filled = total > 0 ? Math.min(Math.round((count / total) * barWidth), barWidth) : barWidth
    return `[${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}]${text}`
  }

  function plainLine(at: number): string {
    const elapsed = at - start
    return `diff: ${count}/${total} cases (${percent()}%) in ${formatDuration(elapsed)}, ${formatRate(count, elapsed)} cases/s, ${counts()}`
  }

  function draw(at: number): void {
    // Carriage return, then erase to the end of the line: the bar redrawn in place.
    stream.write(`\r${ttyLine(at)}\x1b[K`)
    drawn = true
    lastWrite = at
  }

  return {
    tick(outcome) {
      if (finished) return
      count++
      if (outcome === 'mismatch') mismatches++
      else if (outcome === 'error') errors++
      const at = now()
      if (tty) {
        if (!drawn || at - lastWrite >= interval || count === total) draw(at)
        return
      }
      const tenth = total > 0 ? Math.floor((count * 10) / total) : 10
      // The last tenth is left to done(), which says the run is over.
      if ((tenth > lastTenth && tenth < 10) || at - lastWrite >= interval) {
        lastTenth = tenth
        lastWrite = at
        stream.write(`${plainLine(at)}\n`)
      }
    },
    done() {
      if (finished) return
      finished = true
      const at = now()
      if (tty) {
        draw(at)
        stream.write('\n')
      } else {
        stream.write(`${plainLine(at)}, done\n`)
      }
    },
  }
}
