'use strict'
// parseCsv against Papa Parse on ~10 MB of typical CSV (100 000 rows × 10 columns).
// Wall time, and main-thread time: the event loop's active time while the parse is in
// flight (run's synchronous part plus the completion callback, JSON.parse included).

const { performance } = require('node:perf_hooks')
const Papa = require('papaparse')
const { Pool } = require('..')
const { medianOf, report } = require('./harness.js')

const RUNS = Number(process.env.BENCH_RUNS ?? 5)

function table(rows) {
  let seed = 1
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed / 2 ** 31
  }
  const names = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot']
  const lines = ['id,name,city,amount,price,active,quantity,rating,code,note']
  for (let i = 0; i < rows; i++) {
    lines.push(
      [
        i,
        names[i % 6],
        `City ${i % 97}`,
        (random() * 10000).toFixed(2),
        (random() * 100).toFixed(3),
        random() < 0.5,
        Math.floor(random() * 1000),
        (random() * 5).toFixed(1),
        `C-${(i * 7919) % 100000}`,
        i % 10 === 0 ? '"quoted, with comma"' : 'plain text here',
      ].join(','),
    )
  }
  return lines.join('\n')
}

/** Wall and main-thread (event-loop active) milliseconds of one call of `work`. */
async function measure(work) {
  const before = performance.eventLoopUtilization()
  const start = performance.now()
  await work()
  const wall = performance.now() - start
  return { wall, main: performance.eventLoopUtilization(before).active }
}

async function main() {
  const pool = new Pool({ maxThreads: 2, minThreads: 2 })
  const csv = table(100_000)
  console.log(`parseCsv vs Papa Parse, ${(Buffer.byteLength(csv) / 1e6).toFixed(1)} MB, median of ${RUNS} runs`)
  for (const [label, options] of [
    ['header + dynamicTyping', { header: true, dynamicTyping: true }],
    ['no header, strings', {}],
  ]) {
    const ours = () => measure(() => pool.run({ input: csv, ...options }, 'parseCsv'))
    const theirs = () => measure(async () => Papa.parse(csv, options))
    await ours()
    await theirs()
    const oursRuns = []
    const theirRuns = []
    await medianOf(RUNS, async () => oursRuns.push(await ours()))
    await medianOf(RUNS, async () => theirRuns.push(await theirs()))
    const median = (runs, key) => runs.map((r) => r[key]).sort((a, b) => a - b)[Math.floor(runs.length / 2)]
    report({
      name: `${label}: wall time`,
      unit: 'ms',
      ours: median(oursRuns, 'wall'),
      anchor: median(theirRuns, 'wall'),
      anchorName: 'papaparse',
      higherIsBetter: false,
      target: label.startsWith('header') ? 3 : undefined,
    })
    report({
      name: `${label}: main-thread time`,
      unit: 'ms',
      ours: median(oursRuns, 'main'),
      anchor: median(theirRuns, 'main'),
      anchorName: 'papaparse',
      higherIsBetter: false,
      target: label.startsWith('header') ? 5 : undefined,
    })
  }
  // output: 'columns', beyond Papa Parse: numeric columns cross as Float64Arrays.
  const columns = () =>
    measure(() => pool.run({ input: csv, header: true, dynamicTyping: true, output: 'columns' }, 'parseCsv'))
  await columns()
  const columnRuns = []
  await medianOf(RUNS, async () => columnRuns.push(await columns()))
  const papaHeaderTyped = () => measure(async () => Papa.parse(csv, { header: true, dynamicTyping: true }))
  const papaRuns = []
  await medianOf(RUNS, async () => papaRuns.push(await papaHeaderTyped()))
  const medianOfRuns = (runs, key) => runs.map((r) => r[key]).sort((a, b) => a - b)[Math.floor(runs.length / 2)]
  report({
    name: "output: 'columns': main-thread time",
    unit: 'ms',
    ours: medianOfRuns(columnRuns, 'main'),
    anchor: medianOfRuns(papaRuns, 'main'),
    anchorName: 'papaparse',
    higherIsBetter: false,
  })
  report({
    name: "output: 'columns': wall time",
    unit: 'ms',
    ours: medianOfRuns(columnRuns, 'wall'),
    anchor: medianOfRuns(papaRuns, 'wall'),
    anchorName: 'papaparse',
    higherIsBetter: false,
  })

  // Event-loop delay while four parses are in flight (Papa Parse: four in turn, as it
  // must on the main thread): how late each tick of a 1 ms interval came, p99. The
  // interval is armed a turn before the work starts, so a blocked stretch is counted.
  const delayDuring = async (work) => {
    const late = []
    let last = performance.now()
    const timer = setInterval(() => {
      const now = performance.now()
      late.push(Math.max(0, now - last - 1))
      last = now
    }, 1)
    await new Promise((resolve) => setTimeout(resolve, 5))
    await work()
    await new Promise((resolve) => setTimeout(resolve, 5))
    clearInterval(timer)
    late.sort((a, b) => a - b)
    return late[Math.min(late.length - 1, Math.ceil(late.length * 0.99) - 1)]
  }
  const options = { header: true, dynamicTyping: true }
  report({
    name: 'event-loop delay p99, 4 parses in flight',
    unit: 'ms',
    ours: await medianOf(RUNS, () =>
      delayDuring(() => Promise.all([1, 2, 3, 4].map(() => pool.run({ input: csv, ...options }, 'parseCsv')))),
    ),
    anchor: await medianOf(RUNS, () =>
      delayDuring(async () => {
        for (let i = 0; i < 4; i++) Papa.parse(csv, { ...options })
      }),
    ),
    anchorName: 'papaparse',
    higherIsBetter: false,
  })
  await pool.close()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
