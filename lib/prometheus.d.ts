import type { Registry } from 'prom-client'
import type { Pool } from '../index'

export interface CollectMetricsOptions {
  /** Where the metrics are registered; prom-client's default registry if absent. */
  register?: Registry
  /** Replaces `cisterna_` in every name; two pools in one registry need two prefixes. */
  prefix?: string
  /** The histograms' bucket bounds in seconds, ascending; prom-client's defaults if absent. */
  buckets?: readonly number[]
}

/**
 * Registers the pool's metrics: `cisterna_tasks_total{task, outcome}`,
 * `cisterna_task_duration_seconds{task}` and `cisterna_task_wait_seconds{task}` (histograms
 * measured on the threads), `cisterna_queue_size`, `cisterna_threads`, `cisterna_utilization_ratio`.
 */
export declare function collectMetrics(pool: Pool, options?: CollectMetricsOptions): void

/** prom-client's default buckets, in seconds. */
export declare const DEFAULT_BUCKETS: readonly number[]
