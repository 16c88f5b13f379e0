import type { Job, Processor, Worker } from 'bullmq'
import type { Pool } from '../index'
import type { Limits } from './limits'

export interface ProcessorOptions {
  /** Milliseconds each job may run before its task is rejected with ERR_TIMEOUT and stopped; over `limits.timeouts`. */
  timeout?: number
  /**
   * The worker's policy (`createLimits` from `cisterna/limits`): a job whose data asks for more
   * fails at once with its `ERR_LIMIT_*` code, and each task runs with its deadline.
   */
  limits?: Limits
}

/**
 * A BullMQ processor running each job on `pool`: the job's name is the task, its data what
 * `pool.run` takes (JSON's `{ type: 'Buffer', data }` turned back into Buffers). Results: a
 * BigInt as its decimal string, typed arrays as arrays, Buffers in their JSON form. Errors
 * keep their code in the message; ERR_INVALID_ARG, ERR_UNKNOWN_TASK, ERR_INPUT_TOO_LARGE,
 * ERR_TASK_FAILED and the limits' ERR_LIMIT_* codes fail the job at once (UnrecoverableError). Progress goes to
 * `job.updateProgress` (0–100); BullMQ's cancellation aborts the task.
 */
export declare function createProcessor(pool: Pool, options?: ProcessorOptions): Processor

/** Aborts the task of every job whose lock `worker` could not renew; returns the worker. */
export declare function cancelLostJobs<W extends Worker>(worker: W): W

/** Job data as `pool.run` takes it: every `{ type: 'Buffer', data }` turned back into a Buffer. */
export declare function fromJobData(data: unknown): unknown

/** A task's result as a job's JSON can carry it. */
export declare function toJobResult(result: unknown): unknown

export type { Job }
