// Waiting on a condition in tests: look again every few milliseconds, fail
// with what was awaited after a bound, never sleep a fixed time and hope.

/** Waits until `check()` holds; fails after `ms`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 3000,
): Promise<void> {
  const deadline = performance.now() + ms
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
