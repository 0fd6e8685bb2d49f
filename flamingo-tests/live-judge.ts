// Judging live shadow comparisons per field, the way Diffy separates
// regressions from noise: for each field, how often the two paths differed is
// compared with how often the legacy differed from itself. A field counts as a
// regression only when its mismatch rate clearly exceeds its noise rate.

import type { FieldDiff } from './dns-compare.ts'

/** A regression needs a mismatch rate over twice the noise rate and this much above it. */
const RELATIVE = 2
const ABSOLUTE = 0.01

export interface LiveExample {
  at: string
  id: string
  diffs: FieldDiff[]
  legacy: string
  candidate: string
}

export interface FieldRates {
  field: string
  mismatchRate: number
  noiseRate: number
  regression: boolean
}

export class LiveJudge {
  #compared = 0
  #noiseCompared = 0
  readonly #mismatches = new Map<string, number>()
  readonly #noise = new Map<string, number>()
  readonly #examples: LiveExample[] = []
  readonly #keep: number

  constructor(keepExamples: number) {
    this.#keep = keepExamples
  }

  /** Records legacy-versus-legacy differences (the noise sample). */
  noise(diffs: readonly FieldDiff[]): void {
    this.#noiseCompared++
    for (const field of new Set(diffs.map((d) => d.field)))
      this.#noise.set(field, (this.#noise.get(field) ?? 0) + 1)
  }

  /**
   * Records one comparison of the two paths; returns the differences that are
   * regressions (empty: a match, or noise only). Those are kept as an example.
   */
  compared(
    id: string,
    diffs: readonly FieldDiff[],
    legacy: () => string,
    candidate: () => string,
  ): FieldDiff[] {
    this.#compared++
    for (const field of new Set(diffs.map((d) => d.field)))
      this.#mismatches.set(field, (this.#mismatches.get(field) ?? 0) + 1)
    const real = diffs.filter((d) => this.#isRegression(d.field))
    if (real.length > 0) {
      this.#examples.push({
        at: new Date().toISOString(),
        id,
        diffs: real,
        legacy: legacy(),
        candidate: candidate(),
      })
      if (this.#examples.length > this.#keep) this.#examples.shift()
    }
    return real
  }

  #isRegression(field: string): boolean {
    const mismatchRate = (this.#mismatches.get(field) ?? 0) / Math.max(this.#compared, 1)
    const noiseRate = (this.#noise.get(field) ?? 0) / Math.max(this.#noiseCompared, 1)
    return mismatchRate > noiseRate * RELATIVE && mismatchRate - noiseRate > ABSOLUTE
  }

  /** The last examples, newest last. */
  examples(): readonly LiveExample[] {
    return this.#examples
  }

  rates(): FieldRates[] {
    return [...new Set([...this.#mismatches.keys(), ...this.#noise.keys()])]
      .sort()
      .map((field) => ({
        field,
        mismatchRate: (this.#mismatches.get(field) ?? 0) / Math.max(this.#compared, 1),
        noiseRate: (this.#noise.get(field) ?? 0) / Math.max(this.#noiseCompared, 1),
        regression: this.#isRegression(field),
      }))
  }
}
