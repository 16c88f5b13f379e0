'use strict'
// Shared by the tests: a task that holds a thread until its signal aborts, and polling.

/** Recursive fib(90) never finishes on its own: it runs until its signal aborts. */
function hold(pool, options = {}) {
  const controller = new AbortController()
  const promise = pool.run({ n: 90, algorithm: 'recursive' }, { name: 'fib', signal: controller.signal, ...options })
  promise.catch(() => {})
  return { promise, release: () => controller.abort() }
}

/** Polls `condition` until true; fails the test if it never is. */
async function eventually(t, condition, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) t.fail(`never became true: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

module.exports = { hold, eventually }
