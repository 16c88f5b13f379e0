// `npm start`: the point of cisterna in a few seconds. The same CPU work (recursive
// fib(32), the classic worker-pool demo load) runs twice while a 10 ms timer ticks on the
// main thread: once through the pool, once inline. The event-loop delay tells the story.

const { performance } = require('node:perf_hooks')
const os = require('node:os')
const { Pool } = require('..')

const TASKS = 24
const N = 34
const TICK_MS = 10

function fibInline(n) {
  return n < 2 ? n : fibInline(n - 1) + fibInline(n - 2)
}

function progress(label, done, ticks) {
  if (!process.stdout.isTTY) return
  const width = 24
  const filled = Math.round((done / TASKS) * width)
  process.stdout.write(
    `\r  ${label.padEnd(7)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(done).padStart(2)}/${TASKS}  timer ticks: ${ticks}   `,
  )
}

/**
 * Runs `work(onDone)` while a 10 ms timer ticks; the event-loop delay is how much later
 * than due each tick came (the whole blocked stretch, when the main thread is busy).
 */
async function measure(label, work) {
  let ticks = 0
  let done = 0
  let lastTick = performance.now()
  const delays = []
  const timer = setInterval(() => {
    const now = performance.now()
    delays.push(Math.max(0, now - lastTick - TICK_MS))
    lastTick = now
    ticks++
    progress(label, done, ticks)
  }, TICK_MS)
  const start = performance.now()
  await work(() => {
    done++
    progress(label, done, ticks)
  })
  const wall = performance.now() - start
  // Let one more tick come, so a stretch blocked until the very end is counted.
  await new Promise((resolve) => setTimeout(resolve, TICK_MS * 2))
  clearInterval(timer)
  progress(label, done, ticks)
  if (process.stdout.isTTY) process.stdout.write('\n')
  delays.sort((a, b) => a - b)
  const p99 = delays[Math.min(delays.length - 1, Math.ceil(delays.length * 0.99) - 1)] ?? 0
  return { wall, ticks, p99, max: delays.at(-1) ?? 0 }
}

async function main() {
  const threads = os.availableParallelism()
  console.log(`cisterna demo: ${TASKS} × recursive fib(${N}) while a 10 ms timer ticks on the main thread`)
  console.log(`(${threads} native threads for the pool; the inline run uses the main thread alone)\n`)

  const pool = new Pool({ maxThreads: threads, minThreads: threads })
  const pooled = await measure('pool', (onDone) =>
    Promise.all(Array.from({ length: TASKS }, () => pool.run({ n: N, algorithm: 'recursive' }, 'fib').then(onDone))),
  )
  await pool.close()

  const inline = await measure('inline', async (onDone) => {
    for (let i = 0; i < TASKS; i++) {
      fibInline(N)
      onDone()
    }
  })

  const row = (label, r) =>
    `  ${label.padEnd(7)} wall ${r.wall.toFixed(0).padStart(5)} ms   event-loop delay p99 ${r.p99.toFixed(1).padStart(6)} ms, max ${r.max.toFixed(1).padStart(6)} ms   timer ticks ${String(r.ticks).padStart(4)}`
  console.log('\nresults')
  console.log(row('pool', pooled))
  console.log(row('inline', inline))
  console.log(
    `\nThrough the pool the work took ${(inline.wall / pooled.wall).toFixed(1)}× less time and the timer kept ticking`,
  )
  console.log(
    `(no tick more than ${pooled.max.toFixed(1)} ms late); inline, the main thread was blocked for ${inline.max.toFixed(0)} ms.`,
  )
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
