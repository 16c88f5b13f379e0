/// <reference types="node" />
// cisterna: a Piscina-like pool of native threads. npm installs the prebuilt binary for the
// platform; elsewhere the package builds from source, which needs Rust (cargo,
// https://rustup.rs) and a C compiler (gcc, clang or MSVC); nasm on PATH is optional and makes
// JPEG faster.
import { EventEmitter } from 'node:events'
import type { MessagePort, ResourceLimits, SHARE_ENV, Worker } from 'node:worker_threads'

/** The input and output of every task this build knows. */
export interface Tasks {
  fib: {
    input: FibInput
    /** F(n), exact: a number while it is a safe integer (n ≤ 78), else a bigint. */
    output: number | bigint
  }
  hash: {
    input: BinaryLike | HashOptions
    /** A string, or a Buffer for `encoding: 'buffer'`. */
    output: string | Buffer
  }
  hashPassword: {
    input: HashPasswordOptions
    /** `$2b$…`, `$argon2id$v=19$…` or `$scrypt$ln=…,r=8,p=1$…`. */
    output: string
  }
  verifyPassword: {
    input: { password: BinaryLike; hash: string }
    output: boolean
  }
  parseCsv: {
    input: string | NodeJS.ArrayBufferView | ArrayBuffer | ParseCsvOptions
    output: ParseCsvResult | ParseCsvColumns | Buffer
  }
  resize: {
    input: ResizeOptions
    /** The encoded image, or `{ data, info }` with `resolveWithObject: true`. */
    output: Buffer | ResizeResult | ResizeResult['info']
  }
}

/** sharp's gravity names; `position` also takes its numbers 0 (centre) to 8 (northwest). */
export type ResizeGravity =
  | 'centre'
  | 'center'
  | 'north'
  | 'east'
  | 'south'
  | 'west'
  | 'northeast'
  | 'southeast'
  | 'southwest'
  | 'northwest'
  | 'top'
  | 'right'
  | 'bottom'
  | 'left'
  | 'right top'
  | 'right bottom'
  | 'left bottom'
  | 'left top'

/** sharp's `resize()` options, with the image bytes as `input`. */
export interface ResizeOptions {
  /** A JPEG, PNG, WebP or GIF image, read in place, or a file (at most 1 GiB). */
  input: NodeJS.ArrayBufferView | ArrayBuffer | FileRef
  /** Write the image to this file instead, and resolve with its `info`. */
  output?: FileRef
  /** Output width in pixels (1..65535); absent: from the height and the aspect ratio. */
  width?: number
  /** Output height in pixels (1..65535); absent: from the width and the aspect ratio. */
  height?: number
  /** Default `'cover'`. */
  fit?: 'cover' | 'contain' | 'fill' | 'inside' | 'outside'
  /** Where `cover` crops and `contain` places the image. Default `'centre'`. */
  position?: ResizeGravity | 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8
  /** Default `'lanczos3'`. */
  kernel?: 'nearest' | 'linear' | 'cubic' | 'mitchell' | 'lanczos2' | 'lanczos3'
  /** Output format; default the input's (PNG for GIF input). */
  format?: 'jpeg' | 'jpg' | 'png' | 'webp'
  /** JPEG and WebP quality, 1..100. Default 80. */
  quality?: number
  /** Never make the image larger than it is. Default false. */
  withoutEnlargement?: boolean
  /** Never make the image smaller than it is. Default false. */
  withoutReduction?: boolean
  /** `contain`'s padding: `{ r, g, b, alpha }` (alpha 0..1) or `'#rgb'`, `'#rgba'`, `'#rrggbb'`, `'#rrggbbaa'`. Default opaque black. */
  background?: { r?: number; g?: number; b?: number; alpha?: number } | string
  /** Pixels (width × height, read from the header) above which the input is refused with ERR_INPUT_TOO_LARGE; `false` or 0: no limit. Default 268402689. */
  limitInputPixels?: number | boolean
  /** Resolve to `{ data, info }` instead of the Buffer alone. */
  resolveWithObject?: boolean
}

export interface ResizeResult {
  data: Buffer
  info: {
    width: number
    height: number
    format: 'jpeg' | 'png' | 'webp'
    /** Bytes in `data`. */
    size: number
    /** 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA. */
    channels: 1 | 2 | 3 | 4
  }
}

/** Papa Parse's options, less those that take functions or stream. */
export interface ParseCsvOptions {
  /** The CSV: a string, or UTF-8 bytes or file (invalid sequences become U+FFFD). */
  input: string | NodeJS.ArrayBufferView | ArrayBuffer | FileRef
  /** Rows become objects keyed by the first row (repeated names renamed name_1, …). */
  header?: boolean
  /** Numbers, booleans, ISO dates (as Date) and null for empty fields; per field by name (or column number). */
  dynamicTyping?: boolean | Record<string, boolean>
  skipEmptyLines?: boolean | 'greedy'
  /** Guessed among `delimitersToGuess` (default `, \t | ; \x1e \x1f`) when empty. */
  delimiter?: string
  delimitersToGuess?: string[]
  /** '\n', '\r' or '\r\n'; guessed when empty. */
  newline?: '' | '\n' | '\r' | '\r\n'
  quoteChar?: string
  escapeChar?: string
  /** Lines starting with this string are skipped; `true` means '#'. */
  comments?: boolean | string
  /** Only the first N rows (0: all). */
  preview?: number
  fastMode?: boolean
  /**
   * 'rows' (default): Papa Parse's result. 'columns': `{ fields, columns, errors, meta }`,
   * columns holding a number in every row as Float64Array (beyond Papa Parse). 'json': a
   * Buffer of exactly the UTF-8 text `JSON.stringify` makes of Papa Parse's result.
   */
  output?: 'rows' | 'columns' | 'json'
}

export type CsvValue = string | number | boolean | null | Date

export interface ParseCsvError {
  type: 'Quotes' | 'Delimiter' | 'FieldMismatch'
  code: 'MissingQuotes' | 'InvalidQuotes' | 'UndetectableDelimiter' | 'TooFewFields' | 'TooManyFields'
  message: string
  row?: number
  index?: number
}

/** What Papa Parse returns for the same input and options. */
export interface ParseCsvResult {
  data: CsvValue[][] | Array<Record<string, CsvValue | CsvValue[]>>
  errors: ParseCsvError[]
  meta: ParseCsvMeta
}

/**
 * `output: 'columns'`: the header names (or column numbers) and one column per name; a
 * column is a Float64Array when every row holds a number there, else its values
 * (`undefined` where a row is too short). Values past the header have no column.
 */
export interface ParseCsvColumns {
  fields: string[]
  columns: Array<Float64Array | Array<CsvValue | undefined>>
  errors: ParseCsvError[]
  meta: ParseCsvMeta
}

export interface ParseCsvMeta {
  delimiter: string
  linebreak: string
  aborted: boolean
  truncated: boolean
  cursor: number
  renamedHeaders: Record<string, string> | null
  /** With `header: true`. */
  fields?: string[]
}

export interface HashPasswordOptions {
  password: BinaryLike
  /** Default 'bcrypt'. */
  algorithm?: 'bcrypt' | 'argon2id' | 'scrypt'
  /** bcrypt: log2 rounds, 4–31 (default 10); argon2id: iterations, 1–64 (default 2); scrypt: log2 N, 1–20 (default 17). */
  cost?: number
}

export type TaskName = keyof Tasks

/** Bytes: copied by `run`, or read in place when handed over with `transferList`; a string is hashed as UTF-8. */
export type BinaryLike = string | ArrayBuffer | NodeJS.ArrayBufferView

export type HashAlgorithm =
  | 'md5'
  | 'sha1'
  | 'sha224'
  | 'sha256'
  | 'sha384'
  | 'sha512'
  | 'sha3-256'
  | 'sha3-512'
  | 'blake2b512'
  | 'blake3'
  | 'xxh64'
  | 'xxh3'
  | 'xxh128'
  | 'crc32'
  | 'crc32c'

export type HashEncoding = 'hex' | 'base64' | 'base64url' | 'buffer'

export interface HashOptions<Encoding extends HashEncoding = HashEncoding> {
  /** The bytes, or a file read a chunk at a time (memory stays flat whatever its size). */
  data: BinaryLike | FileRef
  /** Default 'sha256'. */
  algorithm?: HashAlgorithm
  /** Default 'hex'; 'buffer' gives a Buffer. */
  encoding?: Encoding
  /** Makes it an HMAC (a 32-byte key for keyed BLAKE3; none for xxh* and crc*). */
  key?: BinaryLike
}
export type TaskInput<Name extends TaskName> = Tasks[Name]['input']
export type TaskOutput<Name extends TaskName> = Tasks[Name]['output']

/**
 * `n`: an integer ≥ 0, at most 10 000 000 (93 for the recursive algorithm).
 * A bigint n gives a bigint result.
 */
export type FibInput = number | bigint | FibOptions

export interface FibOptions {
  n: number | bigint
  /**
   * `'fast-doubling'` (default): F(10⁶) in milliseconds.
   * `'recursive'`: the textbook exponential recursion (n ≤ 93), a CPU load that stops when cancelled.
   */
  algorithm?: 'fast-doubling' | 'recursive'
}

export interface PoolOptions {
  /** Upper bound of native threads. Default: `os.availableParallelism()`. */
  maxThreads?: number
  /** Threads started at once and kept alive while idle. Default: half of availableParallelism, at least 1. */
  minThreads?: number
  /** Milliseconds an idle thread above `minThreads` lives; `Infinity`: for ever. Default: 30 000. */
  idleTimeout?: number
  /** Tasks that may wait beyond the running ones; `'auto'` = maxThreads²; default `Infinity`. */
  maxQueue?: number | 'auto'
  /** Added to each thread's nice value (0..19, Linux; elsewhere ignored), as Piscina's option. Default 0. */
  niceIncrement?: number
  /**
   * The worker file whose exports `run` calls by default: an absolute path or a file: URL to a
   * CommonJS or ES module (TypeScript where Node runs it). Default: none.
   */
  filename?: string | URL | null
  /** The export `run` calls when it names none. Default `'default'` (the default export, or `module.exports`). */
  name?: string
  /** Given to every JS worker: `require('cisterna').workerData` there. */
  workerData?: unknown
  /** The JS workers' `process.env` (or `worker_threads.SHARE_ENV`). Default: a copy of this process's. */
  env?: Record<string, string | undefined> | typeof SHARE_ENV
  /** The JS workers' `process.argv` after the script. */
  argv?: readonly string[]
  /** The JS workers' Node options. Default: this process's. */
  execArgv?: readonly string[]
  /** Each JS worker's memory limits; a worker past them fails its task (ERR_WORKER_OUT_OF_MEMORY) and is replaced. */
  resourceLimits?: ResourceLimits
  /** Close the file descriptors a JS worker opened when it exits. Default true. */
  trackUnmanagedFds?: boolean
  /** Piscina's option, accepted at its meaning here only: a worker runs one task at a time. */
  concurrentTasksPerWorker?: 1
  /** Piscina's option, accepted at its meaning here only: tasks reach workers through the engine. */
  atomics?: 'disabled'
  /** Piscina's option, accepted at its meaning here only: times are always recorded. */
  recordTiming?: true
}

/** The options in force, defaults filled in. */
export interface ResolvedPoolOptions {
  readonly maxThreads: number
  readonly minThreads: number
  readonly idleTimeout: number
  readonly maxQueue: number
  readonly niceIncrement: number
  /** The worker file as a file: URL, or null. */
  readonly filename: string | null
  readonly name: string
  readonly workerData: unknown
  readonly env: Record<string, string | undefined> | typeof SHARE_ENV | undefined
  readonly argv: readonly string[] | undefined
  readonly execArgv: readonly string[] | undefined
  readonly resourceLimits: ResourceLimits | undefined
  readonly trackUnmanagedFds: boolean
}

/** What a worker file's function receives after its data. */
export interface TaskContext {
  /** Aborts when the task is aborted or times out: stop, and the worker is not terminated. */
  signal: AbortSignal
}

/** A worker file's exports, as `typeof import('./worker.js')` gives them. */
export type WorkerExports = object

/** A worker file's function (or a Promise of one, from a module with top-level await). */
type WorkerFunctionOf<Export> = [Export] extends [never]
  ? never
  : Awaited<Export> extends (data: infer Data, context: TaskContext) => infer Result
    ? { data: Data; result: Awaited<Result> }
    : never

/** The names of a worker file's exports that are functions. */
export type ExportName<Exports> = {
  [Name in keyof Exports & string]: WorkerFunctionOf<Exports[Name]> extends never ? never : Name
}[keyof Exports & string]

export interface WorkerRunOptions<Name extends string = string> {
  /** The export to call. Default: the pool's `name` option, `'default'` unless set. */
  name?: Name
  /** The worker file, in place of the pool's; `null` runs a native task by `name`. */
  filename?: string | URL
  /** Aborting rejects with ERR_ABORTED; a running function sees its `signal` abort, and its worker is terminated if it has not settled 100 ms later. */
  signal?: AbortSignal | null
  /** Higher runs first, native and JS tasks in one queue. Default 0. */
  priority?: number
  /** Milliseconds; then ERR_TIMEOUT, as `signal`. */
  timeout?: number
  /** ArrayBuffers and MessagePorts (or views) to transfer to the worker instead of copying. */
  transferList?: ReadonlyArray<ArrayBufferLike | ArrayBufferView | MessagePort>
}

/** A value `move()` marked to be transferred, to a worker or back from one. */
export interface Moved<Value> {
  readonly value: Value
  readonly transferList: readonly unknown[]
}

/** Piscina's `move()`: hand an ArrayBuffer, a view on one or a MessagePort over without a copy. */
export declare function move<Value extends ArrayBufferLike | ArrayBufferView | MessagePort>(value: Value): Moved<Value>
export declare function move<Value>(value: Value): Value
/** True inside a pool's JS worker. */
export declare const isWorkerThread: boolean
/** Inside a pool's JS worker, the pool's `workerData`. */
export declare const workerData: unknown
export declare const version: string

export interface RunOptions<Name extends TaskName = TaskName> {
  name: Name
  /** Aborting rejects the task with ERR_ABORTED (an AbortError), queued or running, and stops its work. */
  signal?: AbortSignal | null
  /** Higher runs first; FIFO within one priority. Default 0. */
  priority?: number
  /** Milliseconds; then the task is rejected with ERR_TIMEOUT and its work stopped. */
  timeout?: number
  /**
   * Buffers to hand over instead of copying, as with a transfer to a worker: ArrayBuffers, or
   * Buffers and other views (their ArrayBuffer moves). They are detached from the caller at
   * once and read in place. Without it, `run` copies binary data before it returns. Memory
   * that cannot move (Node's pooled small Buffers) is copied; a SharedArrayBuffer is shared.
   */
  transferList?: ReadonlyArray<ArrayBufferLike | ArrayBufferView>
  /**
   * Called on the main thread with how far the task is (0..1), at most every 100 ms, by the
   * tasks that know: hash, parseCsv's rows, bcrypt/Argon2/scrypt, resize by stage. What it
   * throws becomes a process warning.
   */
  onProgress?: ((fraction: number) => void) | null
}

/** A file the pool's thread reads (or writes), named by its path; nothing else is touched. */
export interface FileRef {
  path: string
}

/** Latency in milliseconds: `{ count, sum, mean, stddev, min, max, p50, p90, p99, buckets? }`. */
export type { Histogram, TaskTimes } from './binding'

import type { Histogram, TaskTimes } from './binding'

/** One native thread of a pool. */
export interface NativeThread {
  /** Its number in the pool, from 1, never reused. */
  readonly threadId: number
}

/** One task's figures in `pool.stats()`. */
export interface TaskStats extends TaskTimes {
  /** How many ended each way: `ok`, or the code they were rejected with. */
  outcomes: { ok: number } & Partial<Record<ErrorCode, number>>
}

export type ErrorCode =
  | 'ERR_UNKNOWN_TASK'
  | 'ERR_INVALID_ARG'
  | 'ERR_QUEUE_FULL'
  | 'ERR_ABORTED'
  | 'ERR_TIMEOUT'
  | 'ERR_POOL_CLOSED'
  | 'ERR_INPUT_TOO_LARGE'
  | 'ERR_TASK_FAILED'
  | 'ERR_TASK_PANICKED'
  | 'ERR_INTERNAL'
  | 'ERR_FILE_NOT_FOUND'
  | 'ERR_FILE_READ'
  | 'ERR_FILE_WRITE'
  | 'ERR_WORKER_EXITED'

/** What every rejection of `run` is. */
export interface PoolError extends Error {
  code: ErrorCode
}

export interface PoolEvents {
  /** After `'needsDrain'`: a thread is free again, so a new task would start at once. */
  drain: []
  /** Every thread has a task running or waiting for it: a new task would queue (`needsDrain` is true). */
  needsDrain: []
  /** A fault outside any one task (a thread could not start, a JS worker threw while idle). */
  error: [Error & { code?: string }]
  /** What a JS worker posted on its `parentPort`. */
  message: [unknown]
  /** A JS worker started. */
  workerCreate: [Worker]
  /** A JS worker ended (its thread left, it crashed or exited, or the pool closed). */
  workerDestroy: [Worker]
}

/**
 * A pool of native threads. `Exports` types a worker file's functions for `run`:
 * `new Pool<typeof import('./worker.js')>({ filename })`.
 */
export declare class Pool<Exports extends WorkerExports = Record<never, never>> extends EventEmitter {
  static move: typeof move
  static isWorkerThread: boolean
  static workerData: unknown
  static version: string

  constructor(options?: number | PoolOptions)

  /** Queues one task; hash with `encoding: 'buffer'` gives a Buffer, any other a string. */
  run(data: HashOptions<'buffer'> & { encoding: 'buffer' }, name: 'hash' | RunOptions<'hash'>): Promise<Buffer>
  run(
    data: BinaryLike | HashOptions<'hex' | 'base64' | 'base64url'>,
    name: 'hash' | RunOptions<'hash'>,
  ): Promise<string>
  /** parseCsv: Papa Parse's rows, columns with `output: 'columns'`, JSON text with `output: 'json'`. */
  run(data: ParseCsvOptions & { output: 'json' }, name: 'parseCsv' | RunOptions<'parseCsv'>): Promise<Buffer>
  run(
    data: ParseCsvOptions & { output: 'columns' },
    name: 'parseCsv' | RunOptions<'parseCsv'>,
  ): Promise<ParseCsvColumns>
  run(
    data: string | NodeJS.ArrayBufferView | ArrayBuffer | (ParseCsvOptions & { output?: 'rows' }),
    name: 'parseCsv' | RunOptions<'parseCsv'>,
  ): Promise<ParseCsvResult>
  /** resize: the encoded image, or `{ data, info }` with `resolveWithObject: true`. */
  run(data: ResizeOptions & { output: FileRef }, name: 'resize' | RunOptions<'resize'>): Promise<ResizeResult['info']>
  run(data: ResizeOptions & { resolveWithObject: true }, name: 'resize' | RunOptions<'resize'>): Promise<ResizeResult>
  run(data: ResizeOptions & { resolveWithObject?: false }, name: 'resize' | RunOptions<'resize'>): Promise<Buffer>
  /** fib of a bigint is a bigint. */
  run(
    data: bigint | { n: bigint; algorithm?: FibOptions['algorithm'] },
    name: 'fib' | RunOptions<'fib'>,
  ): Promise<bigint>
  /** Queues one task. Never throws: every failure is a rejection with a `code` (PoolError). */
  run<Name extends TaskName>(data: TaskInput<Name>, name: Name | RunOptions<Name>): Promise<TaskOutput<Name>>
  /**
   * A worker file's function, by its export's name (the pool's `name` by default). A string as
   * the second argument always names a native task. What the function throws rejects as it
   * was thrown.
   */
  run<Name extends ExportName<Exports> = 'default' & ExportName<Exports>>(
    data: WorkerFunctionOf<Exports[Name]>['data'] | Moved<WorkerFunctionOf<Exports[Name]>['data']>,
    options?: WorkerRunOptions<Name>,
  ): Promise<WorkerFunctionOf<Exports[Name]>['result']>

  /**
   * Takes no more tasks and lets running ones finish; queued ones finish too, or with
   * `force: true` are rejected with ERR_POOL_CLOSED. Resolves once the threads have exited.
   */
  close(options?: { force?: boolean }): Promise<void>
  /** Rejects queued and running tasks with ERR_POOL_CLOSED, stops their work; resolves once the threads have exited. */
  destroy(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>

  /** The native threads alive now, one entry each (Piscina lists its Workers here). */
  readonly threads: readonly NativeThread[]
  /** The JS workers alive now, one per pool thread that has run a worker file's task. */
  readonly workers: readonly Worker[]
  readonly maxThreads: number
  readonly minThreads: number
  /** Milliseconds since the pool was made. */
  readonly duration: number
  /** Every thread has a task running or waiting for it: a new task would queue. */
  readonly needsDrain: boolean
  /** Tasks accepted that no thread has started yet. */
  readonly queueSize: number
  /** Tasks that ran on a thread and finished, resolved or rejected. */
  readonly completed: number
  /** Share of thread capacity spent running tasks since the pool started, 0..1. */
  readonly utilization: number
  /** Milliseconds tasks ran on a thread. */
  readonly runTime: Histogram
  /** Milliseconds tasks waited in the queue. */
  readonly waitTime: Histogram
  /** Piscina's `histogram`: `runTime` and `waitTime` together. */
  readonly histogram: TaskTimes
  /**
   * Per task: how many ended each way and their run and wait times, measured on the threads.
   * With `buckets` (ms, ascending), each histogram also counts the durations up to each bound.
   */
  stats(options?: { buckets?: readonly number[] }): Record<TaskName, TaskStats>
  readonly tasks: readonly TaskName[]
  readonly options: ResolvedPoolOptions

  on<Event extends keyof PoolEvents>(event: Event, listener: (...args: PoolEvents[Event]) => void): this
  once<Event extends keyof PoolEvents>(event: Event, listener: (...args: PoolEvents[Event]) => void): this
  off<Event extends keyof PoolEvents>(event: Event, listener: (...args: PoolEvents[Event]) => void): this
}
