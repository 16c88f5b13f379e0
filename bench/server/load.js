'use strict'
// The load side of `npm run bench:server`, in its own process as a real client would be:
// autocannon on every route at once. Reads a plan as JSON in argv[2], prints the results
// as JSON: per route, requests/s and latency percentiles in ms.

const fs = require('node:fs')
const autocannon = require('autocannon')

const { url, duration, routes } = JSON.parse(process.argv[2])

function load({ path, method = 'POST', bodyFile, contentType, connections, rate }) {
  const options = {
    url: url + path,
    method,
    connections,
    duration,
    headers: contentType === undefined ? {} : { 'content-type': contentType },
  }
  if (bodyFile !== undefined) options.body = fs.readFileSync(bodyFile)
  if (rate !== undefined) options.overallRate = rate
  return new Promise((resolve, reject) =>
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result))),
  )
}

Promise.all(routes.map(load)).then((results) => {
  const summary = results.map((result, index) => ({
    path: routes[index].path,
    requestsPerSecond: result.requests.total / duration,
    ok: result['2xx'],
    notOk: result.non2xx + result.errors + result.timeouts,
    p50: result.latency.p50,
    p99: result.latency.p99,
  }))
  process.stdout.write(JSON.stringify(summary))
})
