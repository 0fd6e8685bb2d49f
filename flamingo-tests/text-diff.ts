// Where two texts differ, for side-by-side views: lines aligned on their longest
// common subsequence, and within a changed line the words that differ.

/** Beyond this many cells (length × length) the LCS is not computed; positions pair up instead. */
const MAX_LCS_CELLS = 4_000_000

/**
 * For each element of `a` and of `b`, whether it is in a longest common
 * subsequence of the two; undefined when they are too long to compare that way.
 */
export function commonMask(
  a: readonly string[],
  b: readonly string[],
): [boolean[], boolean[]] | undefined {
  const n = a.length
  const m = b.length
  if (n * m > MAX_LCS_CELLS) return undefined
  // lcs[i * w + j]: length of a longest common subsequence of a[i..] and b[j..].
  const w = m + 1
  const lcs = new Uint32Array((n + 1) * w)
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] =
        a[i] === b[j]
          ? lcs[(i + 1) * w + j + 1] + 1
          : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1])
    }
  }
  const inA = new Array<boolean>(n).fill(false)
  const inB = new Array<boolean>(m).fill(false)
  let i = 0
  let j = 0
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      inA[i++] = true
      inB[j++] = true
    } else if (lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) i++
    else j++
  }
  return [inA, inB]
}

export interface Row {
  /** Absent when the other side has a line here and this one does not. */
  legacy?: string
  candidate?: string
  same: boolean
}

/**
 * The two texts' lines as rows: common lines side by side, and between them the
 * differing lines of each side paired up in order and marked not same.
 */
export function alignLines(a: readonly string[], b: readonly string[]): Row[] {
  const mask = commonMask(a, b)
  if (!mask) {
    return Array.from({ length: Math.max(a.length, b.length) }, (_, k) => ({
      legacy: a[k],
      candidate: b[k],
      same: k < a.length && k < b.length && a[k] === b[k],
    }))
  }
  const [inA, inB] = mask
  const rows: Row[] = []
  let left: string[] = []
  let right: string[] = []
  const flush = () => {
    for (let k = 0; k < Math.max(left.length, right.length); k++) {
      rows.push({ legacy: left[k], candidate: right[k], same: false })
    }
    left = []
    right = []
  }
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    if (i < a.length && !inA[i]) left.push(a[i++])
    else if (j < b.length && !inB[j]) right.push(b[j++])
    else {
      flush()
      rows.push({ legacy: a[i++], candidate: b[j++], same: true })
    }
  }
  flush()
  return rows
}

/** A piece of a line, and whether it differs from the other side. */
export interface Piece {
  text: string
  changed: boolean
}

/** Two lines split into words and spaces, each piece marked changed unless both lines share it. */
export function wordDiff(a: string, b: string): [Piece[], Piece[]] {
  const ta = a.split(/(\s+)/).filter((t) => t !== '')
  const tb = b.split(/(\s+)/).filter((t) => t !== '')
  const mask = commonMask(ta, tb)
  if (!mask) return [[{ text: a, changed: true }], [{ text: b, changed: true }]]
  const pieces = (tokens: string[], common: boolean[]) => {
    const out: Piece[] = []
    tokens.forEach((text, k) => {
      const changed = !common[k]
      const last = out.at(-1)
      if (last && last.changed === changed) last.text += text
      else out.push({ text, changed })
    })
    return out
  }
  return [pieces(ta, mask[0]), pieces(tb, mask[1])]
}
