'use strict'
// `cisterna/prometheus`: a pool's figures as prom-client metrics. Every figure is read from
// the pool when the registry is scraped (the threads measured the times), so nothing is
// recorded twice and a pool that is not scraped pays nothing.

const { requirePeer } = require('./peer.js')

/** prom-client's default buckets, in seconds. */
const DEFAULT_BUCKETS = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10])

/**
 * A histogram whose buckets are counted by the pool's threads: prom-client's own Histogram
 * can only be fed one observation at a time, so this one gives the registry its values as
 * prom-client's Histogram does (`_bucket` with `le`, `_sum`, `_count`).
 */
class ThreadTimedHistogram {
  constructor({ name, help, registers, buckets, read }) {
    this.name = name
    this.help = help
    this.type = 'histogram'
    this.aggregator = 'sum'
    this.labelNames = ['task']
    this.buckets = buckets
    this.read = read
    for (const register of registers) register.registerMetric(this)
  }

  get() {
    const values = []
    for (const [task, histogram] of this.read()) {
      histogram.buckets.forEach((count, index) => {
        values.push({ metricName: `${this.name}_bucket`, labels: { le: this.buckets[index], task }, value: count })
      })
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', task }, value: histogram.count })
      values.push({ metricName: `${this.name}_sum`, labels: { task }, value: histogram.sum / 1000 })
      values.push({ metricName: `${this.name}_count`, labels: { task }, value: histogram.count })
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }
}

/**
 * Registers the pool's metrics in `register` (prom-client's default registry if none):
 * `cisterna_tasks_total{task, outcome}`, `cisterna_task_duration_seconds{task}`,
 * `cisterna_task_wait_seconds{task}`, `cisterna_queue_size`, `cisterna_threads` and
 * `cisterna_utilization_ratio`. `prefix` replaces `cisterna_` (two pools in one registry
 * need two prefixes); `buckets` are the histograms' bounds in seconds.
 */
function collectMetrics(pool, options = {}) {
  const { Counter, Gauge, register: defaultRegister } = requirePeer('prom-client', 'cisterna/prometheus')
  const { register = defaultRegister, prefix = 'cisterna_', buckets = DEFAULT_BUCKETS } = options
  if (!Array.isArray(buckets) || !buckets.every((bound, i) => bound > 0 && (i === 0 || bound > buckets[i - 1]))) {
    throw Object.assign(new TypeError('collectMetrics: buckets must be ascending numbers of seconds > 0'), {
      code: 'ERR_INVALID_ARG',
    })
  }
  const registers = [register]
  const boundsMs = buckets.map((seconds) => seconds * 1000)
  // One read of the pool per scrape serves all three per-task metrics.
  let scraped
  const stats = () => {
    scraped ??= Object.entries(pool.stats({ buckets: boundsMs }))
    queueMicrotask(() => (scraped = undefined))
    return scraped
  }

  new Counter({
    name: `${prefix}tasks_total`,
    help: 'Tasks that ended, by task and outcome (ok, or the error code)',
    labelNames: ['task', 'outcome'],
    registers,
    collect() {
      this.reset()
      for (const [task, { outcomes }] of stats()) {
        for (const [outcome, count] of Object.entries(outcomes)) this.inc({ task, outcome }, count)
      }
    },
  })
  new ThreadTimedHistogram({
    name: `${prefix}task_duration_seconds`,
    help: 'Time tasks ran on a pool thread',
    registers,
    buckets,
    read: () => stats().map(([task, times]) => [task, times.runTime]),
  })
  new ThreadTimedHistogram({
    name: `${prefix}task_wait_seconds`,
    help: 'Time tasks waited in the queue for a thread',
    registers,
    buckets,
    read: () => stats().map(([task, times]) => [task, times.waitTime]),
  })
  for (const [name, help, read] of [
    ['queue_size', 'Tasks accepted that no thread has started', () => pool.queueSize],
    ['threads', 'Native threads alive', () => pool.threads.length],
    [
      'utilization_ratio',
      "Share of the pool's thread capacity spent running tasks since it started",
      () => pool.utilization,
    ],
  ]) {
    new Gauge({
      name: `${prefix}${name}`,
      help,
      registers,
      collect() {
        this.set(read())
      },
    })
  }
}

module.exports = { collectMetrics, DEFAULT_BUCKETS }
