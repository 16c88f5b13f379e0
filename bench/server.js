'use strict'
// `npm run bench:server`: examples/server.js against the same service built the usual way
// (bench/server/baseline.js: express, sharp, Piscina with node:crypto and Papa Parse), under
// the same HTTP load from a separate autocannon process. First every CPU route at saturation
// (4 connections each, plus /health), then the same routes at half the baseline's saturated
// rates, for latency. Prints both tables; the ratios are the service's figures.

const { execFile } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { photo, prng } = require('../fixtures/images.js')
const { startService } = require('../fixtures/service.js')
const { median } = require('./harness.js')

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const CPU_ROUTES = ['/resize', '/hash', '/csv']

const SERVICES = {
  cisterna: path.join(__dirname, '..', 'examples', 'server.js'),
  baseline: path.join(__dirname, 'server', 'baseline.js'),
}

async function inputs(dir) {
  const random = prng(11)
  const jpeg = path.join(dir, 'photo.jpg')
  fs.writeFileSync(jpeg, await photo(2400, 1600, 'jpeg', { quality: 90 }))
  const bytes = path.join(dir, 'bytes.bin')
  fs.writeFileSync(bytes, Buffer.from(Array.from({ length: 4 << 20 }, () => (random() * 256) | 0)))
  const rows = ['id,name,amount,active,city,note']
  for (let i = 0; i < 20_000; i++) {
    rows.push(
      `${i},customer ${i % 997},${(random() * 10_000).toFixed(2)},${random() < 0.5},city ${i % 41},"note, ${i}"`,
    )
  }
  const csv = path.join(dir, 'rows.csv')
  fs.writeFileSync(csv, `${rows.join('\n')}\n`)
  return {
    '/resize': { path: '/resize?width=480&height=320&fit=cover', bodyFile: jpeg, contentType: 'image/jpeg' },
    '/hash': { path: '/hash?algorithm=sha256', bodyFile: bytes, contentType: 'application/octet-stream' },
    '/csv': { path: '/csv?header=true&dynamicTyping=true', bodyFile: csv, contentType: 'text/csv' },
    '/health': { path: '/health', method: 'GET' },
  }
}

const LOAD = path.join(__dirname, 'server', 'load.js')

function loadProcess(url, routes, duration) {
  const plan = JSON.stringify({ url, duration, routes })
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [LOAD, plan], { maxBuffer: 1 << 20 }, (error, stdout) =>
      error ? reject(error) : resolve(JSON.parse(stdout)),
    ),
  )
}

/**
 * Loads `routes` ({ name: spec }) for `duration` seconds; the results by route name. /health
 * is timed from a process of its own, so that its figures are the server's and not those of
 * a client busy sending megabytes on the other routes.
 */
async function load(url, routes, duration = SECONDS) {
  const names = Object.keys(routes)
  const cpu = names.filter((name) => name !== '/health')
  const [cpuResults, healthResults] = await Promise.all([
    loadProcess(
      url,
      cpu.map((name) => routes[name]),
      duration,
    ),
    loadProcess(url, [routes['/health']], duration),
  ])
  return Object.fromEntries([...cpu.map((name, i) => [name, cpuResults[i]]), ['/health', healthResults[0]]])
}

/** Starts the service, warms it (JIT, thread pools) with a short light load, loads it, stops it. */
async function measure(file, routes) {
  const { url, child } = await startService(file)
  try {
    const light = Object.fromEntries(
      Object.entries(routes).map(([name, spec]) => [name, { ...spec, rate: undefined, connections: 1 }]),
    )
    await load(url, light, 2)
    return await load(url, routes)
  } finally {
    child.kill('SIGKILL')
  }
}

function row(cells, widths) {
  return cells.map((cell, i) => String(cell).padStart(widths[i])).join('  ')
}

function geometricMean(values) {
  return Math.exp(values.reduce((sum, v) => sum + Math.log(v), 0) / values.length)
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cisterna-bench-server-'))
  const byRoute = await inputs(dir)
  const saturation = Object.fromEntries(
    Object.entries(byRoute).map(([route, spec]) => [route, { ...spec, connections: route === '/health' ? 1 : 4 }]),
  )
  console.log(`bench:server: ${os.availableParallelism()} cores, ${SECONDS} s per load, median of ${RUNS} runs`)
  console.log('the load: /resize 2400x1600 JPEG -> 480x320, /hash 4 MiB sha256, /csv 20 000 rows x 6, /health\n')

  const saturated = { cisterna: [], baseline: [] }
  for (let run = 0; run < RUNS; run++) {
    for (const service of ['baseline', 'cisterna'])
      saturated[service].push(await measure(SERVICES[service], saturation))
  }
  const rate = (service, route) => median(saturated[service].map((r) => r[route].requestsPerSecond))
  const widths = [10, 12, 12, 8]
  console.log('saturation (4 connections per CPU route, 1 on /health): requests/s')
  console.log(row(['route', 'cisterna', 'baseline', 'ratio'], widths))
  const ratios = []
  for (const route of CPU_ROUTES) {
    const ratio = rate('cisterna', route) / rate('baseline', route)
    ratios.push(ratio)
    console.log(
      row(
        [route, rate('cisterna', route).toFixed(1), rate('baseline', route).toFixed(1), `${ratio.toFixed(2)}x`],
        widths,
      ),
    )
  }
  const health = (service, key) => median(saturated[service].map((r) => r['/health'][key]))
  console.log(
    row(['/health', `p50 ${health('cisterna', 'p50')} ms`, `p50 ${health('baseline', 'p50')} ms`, ''], widths),
  )
  console.log(row(['geo mean', '', '', `${geometricMean(ratios).toFixed(2)}x`], widths))

  const fixed = Object.fromEntries(
    Object.entries(saturation).map(([route, spec]) => [
      route,
      { ...spec, rate: route === '/health' ? 50 : Math.max(1, Math.round(rate('baseline', route) / 2)) },
    ]),
  )
  const latency = { cisterna: [], baseline: [] }
  for (let run = 0; run < RUNS; run++) {
    for (const service of ['baseline', 'cisterna']) latency[service].push(await measure(SERVICES[service], fixed))
  }
  const p99 = (service, route) => median(latency[service].map((r) => r[route].p99))
  console.log(`\nfixed load (half the baseline's saturated rate per CPU route, 50/s on /health): p99 latency in ms`)
  console.log(row(['route', 'req/s', 'cisterna', 'baseline', 'ratio'], [10, 8, 10, 10, 8]))
  for (const route of [...CPU_ROUTES, '/health']) {
    const ratio = p99('cisterna', route) / p99('baseline', route)
    console.log(
      row(
        [route, fixed[route].rate, p99('cisterna', route), p99('baseline', route), `${ratio.toFixed(2)}x`],
        [10, 8, 10, 10, 8],
      ),
    )
  }
  const failures = ['cisterna', 'baseline'].flatMap((service) =>
    [...saturated[service], ...latency[service]].flatMap((r) =>
      Object.entries(r)
        .filter(([, v]) => v.notOk > 0)
        .map(([route, v]) => `${service} ${route}: ${v.notOk} not ok`),
    ),
  )
  if (failures.length > 0) console.log(`\nnon-2xx answers or errors: ${failures.join('; ')}`)
  fs.rmSync(dir, { recursive: true, force: true })
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
