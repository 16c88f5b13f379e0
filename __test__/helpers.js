'use strict'
// Shared by the tests: a task that holds a thread until its signal aborts, aborts that race
// running tasks, and polling.

/** Recursive fib(90) never finishes on its own: it runs until its signal aborts. */
function hold(pool, options = {}) {
  const controller = new AbortController()
  const promise = pool.run({ n: 90, algorithm: 'recursive' }, { name: 'fib', signal: controller.signal, ...options })
  promise.catch(() => {})
  return { promise, release: () => controller.abort() }
}

/**
 * Runs `pool.run(data, name)` and aborts it, once per entry of `delays`: `undefined` aborts a
 * microtask after run (an object is handed over at once and no result can come in between, so
 * it must reject with ERR_ABORTED); a number of ms aborts on a timer, which may fire after the
 * end, so then it rejects so or gives a result `isWhole` accepts, never a part of one.
 */
async function abortRuns(t, pool, data, name, delays, isWhole) {
  for (const delay of delays) {
    const controller = new AbortController()
    const running = pool.run(data, { name, signal: controller.signal })
    if (delay === undefined) {
      await Promise.resolve()
      controller.abort()
      await t.throwsAsync(running, { code: 'ERR_ABORTED' })
    } else {
      setTimeout(() => controller.abort(), delay)
      const outcome = await running.catch((error) => error.code)
      t.true(outcome === 'ERR_ABORTED' || isWhole(outcome), `aborted after ${delay} ms`)
    }
  }
}

/** Polls `condition` until true; fails the test if it never is. */
async function eventually(t, condition, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) t.fail(`never became true: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

module.exports = { hold, abortRuns, eventually }
