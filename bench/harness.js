'use strict'
// Small measuring tools shared by the benchmarks: timing, percentiles, medians of runs,
// and a table that prints cisterna beside its anchor with the ratio.

const fs = require('node:fs')
const { performance } = require('node:perf_hooks')

const now = () => performance.now()

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[index]
}

function median(values) {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  )
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs `total` calls of `run(i)` keeping `inFlight` of them pending; returns tasks/s. */
async function throughput(run, total, inFlight) {
  let next = 0
  const lane = async () => {
    while (next < total) await run(next++)
  }
  const start = now()
  await Promise.all(Array.from({ length: inFlight }, lane))
  return total / ((now() - start) / 1000)
}

/** Round-trip latencies in ms of `count` calls made one at a time, `gapMs` apart. */
async function latencies(run, count, gapMs) {
  const samples = []
  for (let i = 0; i < count; i++) {
    if (gapMs > 0) await sleep(gapMs)
    const start = now()
    await run(i)
    samples.push(now() - start)
  }
  return samples.sort((a, b) => a - b)
}

/** Measures `measure()` `runs` times and returns the median. */
async function medianOf(runs, measure) {
  const values = []
  for (let i = 0; i < runs; i++) values.push(await measure())
  return median(values)
}

const fmt = (value) => (value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(2) : value.toPrecision(3))

/**
 * Prints one comparison line. `higherIsBetter` decides the ratio's direction so that a
 * ratio above 1 always means cisterna is ahead.
 */
function report({ name, unit, ours, anchor, anchorName, higherIsBetter, target }) {
  const ratio = higherIsBetter ? ours / anchor : anchor / ours
  const verdict =
    target === undefined ? '' : ratio >= target ? `  (target ≥ ${target}×: met)` : `  (target ≥ ${target}×: NOT met)`
  console.log(
    `${name.padEnd(44)} cisterna ${fmt(ours).padStart(10)} ${unit.padEnd(8)} ${anchorName} ${fmt(anchor).padStart(10)} ${unit.padEnd(8)} ratio ${ratio.toFixed(2)}×${verdict}`,
  )
  // `npm run bench` collects every ratio for its chart.
  if (process.env.BENCH_RESULTS) {
    fs.appendFileSync(process.env.BENCH_RESULTS, `${JSON.stringify({ name, anchorName, ratio })}\n`)
  }
  return ratio
}

/** The benchmarks `npm run bench` runs, in order, each in its own process. */
const SUITE = ['pool.js', 'js-tasks.js', 'hash.js', 'password.js', 'csv.js', 'resize.js', 'parallel.js']

module.exports = { now, percentile, median, sleep, throughput, latencies, medianOf, report, SUITE }
