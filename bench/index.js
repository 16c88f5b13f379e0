'use strict'
// `npm run bench`: every benchmark, one after the other, each in its own process so
// one's threads and heap do not disturb the next.

const { execFileSync } = require('node:child_process')
const path = require('node:path')

for (const bench of ['pool.js', 'hash.js', 'password.js', 'csv.js', 'resize.js']) {
  execFileSync(process.execPath, [path.join(__dirname, bench)], { stdio: 'inherit' })
}
