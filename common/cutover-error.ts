// The project's one coded error type and its catalogue. Every layer throws it,
// so it has a folder of its own below all of them: it imports nothing.

export type ErrorSource = 'config' | 'client' | 'upstream' | 'internal'

/** Each entry: a stable code, where such errors come from, and whether a retry may help. */
export const ErrorCode = {
  ZONE_SYNTAX: { source: 'config', retryable: false },
  ZONE_DATA: { source: 'config', retryable: false },
  CONFIG_INVALID: { source: 'config', retryable: false },
  CONFIG_UNREADABLE: { source: 'config', retryable: false },
  NAME_INVALID: { source: 'client', retryable: false },
  RDATA_INVALID: { source: 'client', retryable: false },
  MESSAGE_MALFORMED: { source: 'client', retryable: false },
  LISTEN_FAILED: { source: 'internal', retryable: false },
  UPSTREAM_TIMEOUT: { source: 'upstream', retryable: true },
  UPSTREAM_UNREACHABLE: { source: 'upstream', retryable: true },
  UPSTREAM_BAD_REPLY: { source: 'upstream', retryable: false },
  UPSTREAM_TLS: { source: 'upstream', retryable: false },
  CLIENT_GONE: { source: 'client', retryable: false },
  BODY_TOO_LARGE: { source: 'client', retryable: false },
  USAGE: { source: 'client', retryable: false },
} as const satisfies Record<string, { source: ErrorSource; retryable: boolean }>

export type ErrorCodeName = keyof typeof ErrorCode

/** `CUTOVER_ERR_<code>`: carries where the error came from and whether retrying is safe. */
export class CutoverError extends Error {
  readonly code: `CUTOVER_ERR_${ErrorCodeName}`
  readonly source: ErrorSource
  readonly retryable: boolean

  constructor(code: ErrorCodeName, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CutoverError'
    this.code = `CUTOVER_ERR_${code}`
    this.source = ErrorCode[code].source
    this.retryable = ErrorCode[code].retryable
  }
}
