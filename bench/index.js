'use strict'
// `npm run bench`: every benchmark, one after the other, each in its own process so
// one's threads and heap do not disturb the next; then bench/ratios.svg, a chart of every
// ratio against its anchor (commit it with the figures it shows).

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { chart } = require('./chart.js')
const { SUITE } = require('./harness.js')

const results = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cisterna-bench-')), 'results.jsonl')
for (const bench of SUITE) {
  execFileSync(process.execPath, [path.join(__dirname, bench)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_RESULTS: results },
  })
}
const ratios = fs
  .readFileSync(results, 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line))
  // Rows against another run of cisterna itself (a copy against a hand-over) are not charted.
  .filter(({ anchorName }) => !/one-at-a-time|handed over|run\(n, fib\)|no worker file/.test(anchorName))
fs.writeFileSync(path.join(__dirname, 'ratios.svg'), chart(ratios))
console.log(`bench: ${ratios.length} ratios charted in bench/ratios.svg`)
