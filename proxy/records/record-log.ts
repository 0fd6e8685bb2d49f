// Where record events come from, in order: the journal file (one instance) or a
// Redis stream (a fleet). Both hand on each entry with its sequence; the feed
// parses and applies them.

import type { Sequence } from '../../modules/authoritative/record-event.ts'

export interface LogEntry {
  sequence: Sequence
  /** The event as JSON. */
  text: string
}

export interface RecordLog {
  describe(): string
  /**
   * Hands on every entry the log holds now after `after` (`0-0`: from the
   * start), in order. `claimed`: the furthest a zone says it has read (its
   * snapshot); a log that never reached it was replaced, when the log can tell.
   */
  replay(after: Sequence, each: (entry: LogEntry) => void, claimed: Sequence): Promise<void>
  /** Hands on every entry after `after`, now and as they arrive, until closed. */
  follow(after: Sequence, each: (entry: LogEntry) => void): void
  /** Adds an event (JSON); resolves once the log holds it. */
  append(text: string): Promise<void>
  /** Entries behind, and the age in seconds of the oldest of them, after `position`. */
  lag(position: Sequence): Promise<{ events: number; seconds: number }>
  health(): { ok: boolean; detail?: string }
  close(): Promise<void>
}
