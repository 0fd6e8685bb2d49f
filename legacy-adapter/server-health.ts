// Which legacy servers to use: round-robin over those that answer, skipping one
// after consecutive timeouts until a probe (or any reply) shows it is back.

export interface DnsServer {
  host: string
  port: number
}

export class ServerHealth {
  readonly #failures: number[]
  readonly #down: boolean[]
  readonly #failuresBeforeDown: number
  readonly #intervalMs: number
  readonly #probe: (server: number) => void
  #next = 0
  #timer: NodeJS.Timeout | undefined

  /** `probe(i)` is called every interval for each server that is down. */
  constructor(
    count: number,
    failuresBeforeDown: number,
    intervalMs: number,
    probe: (server: number) => void,
  ) {
    this.#failures = new Array<number>(count).fill(0)
    this.#down = new Array<boolean>(count).fill(false)
    this.#failuresBeforeDown = failuresBeforeDown
    this.#intervalMs = intervalMs
    this.#probe = probe
  }

  start(): void {
    this.#timer = setInterval(() => {
      for (let i = 0; i < this.#down.length; i++) if (this.#down[i]) this.#probe(i)
    }, this.#intervalMs)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
  }

  get upCount(): number {
    return this.#down.filter((d) => !d).length
  }

  isUp(server: number): boolean {
    return !this.#down[server]
  }

  /**
   * The next server to use: another server that is up, else `avoid` if it is up,
   * else (all down) the next in turn, so queries still probe them.
   */
  pick(avoid: number): number {
    const n = this.#down.length
    for (let k = 0; k < n; k++) {
      const i = (this.#next + k) % n
      if (!this.#down[i] && i !== avoid) {
        this.#next = (i + 1) % n
        return i
      }
    }
    if (avoid >= 0 && !this.#down[avoid]) return avoid
    const i = this.#next

    this.#next = (i + 1) % n
    return i
  }

  succeeded(server: number): void {
    this.#failures[server] = 0
    this.#down[server] = false
  }

  failed(server: number): void {
    if (++this.#failures[server] >= this.#failuresBeforeDown) this.#down[server] = true
  }
}
