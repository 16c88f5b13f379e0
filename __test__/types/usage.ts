// Compiled by `npm run test:types`: the public types accept what docs/api.md allows and
// refuse what it does not (each @ts-expect-error fails the build if it stops erroring).

import { Worker } from 'bullmq'
import { type Histogram, Pool, type PoolError } from 'cisterna'
import { cancelLostJobs, createProcessor } from 'cisterna/bullmq'
import { checkTask, createLimits, type Limits, limitsFromEnv } from 'cisterna/limits'
import { collectMetrics } from 'cisterna/prometheus'
import { Registry } from 'prom-client'

async function usage(): Promise<void> {
  const pool = new Pool({ maxThreads: 2, maxQueue: 'auto' })
  new Pool()
  new Pool(4)

  const small: number | bigint = await pool.run(10, 'fib')
  const big: bigint = await pool.run(10n, 'fib')
  const recursive: number | bigint = await pool.run(
    { n: 30, algorithm: 'recursive' },
    { name: 'fib', priority: 1, timeout: 100, signal: AbortSignal.timeout(50) },
  )
  const digest: string = await pool.run(Buffer.from('x'), 'hash')
  const digestOf: string = await pool.run({ data: new Uint8Array(4), algorithm: 'blake3', encoding: 'base64' }, 'hash')
  const raw: Buffer = await pool.run({ data: 'x', encoding: 'buffer' }, { name: 'hash', timeout: 10 })
  const upload = Buffer.alloc(1 << 20)
  const handedOver: string | Buffer = await pool.run(upload, { name: 'hash', transferList: [upload.buffer] })
  // @ts-expect-error transferList holds buffers, not strings
  await pool.run(upload, { name: 'hash', transferList: ['x'] })
  const encoded: string = await pool.run({ password: 'p', algorithm: 'argon2id', cost: 2 }, 'hashPassword')
  const ok: boolean = await pool.run({ password: 'p', hash: encoded }, 'verifyPassword')
  const table = await pool.run({ input: 'a,b\n1,2', header: true, dynamicTyping: { a: true } }, 'parseCsv')
  const fields: string[] | undefined = table.meta.fields
  const rows = table.data
  const byColumn = await pool.run({ input: 'a\n1', header: true, output: 'columns' }, 'parseCsv')
  const first: Float64Array | Array<unknown> = byColumn.columns[0]
  const thumbnail: Buffer = await pool.run(
    { input: Buffer.alloc(0), width: 200, fit: 'inside', position: 'left top', format: 'webp' },
    'resize',
  )
  const described = await pool.run(
    { input: new Uint8Array(0), height: 100, background: { r: 255, alpha: 0.5 }, resolveWithObject: true },
    { name: 'resize', timeout: 1_000 },
  )
  const format: 'jpeg' | 'png' | 'webp' = described.info.format
  const histogram: Histogram = pool.runTime
  const count: number = pool.threads.length + pool.queueSize + pool.completed + pool.utilization
  const firstThread: number | undefined = pool.threads[0]?.threadId
  const fibRuns: number = pool.stats({ buckets: [1, 10] }).fib.runTime.count
  const aborted: number | undefined = pool.stats().hash.outcomes.ERR_ABORTED
  const saturated: boolean = pool.needsDrain
  collectMetrics(pool, { register: new Registry(), prefix: 'images_', buckets: [0.01, 0.1, 1] })
  // @ts-expect-error buckets are numbers of seconds
  collectMetrics(pool, { buckets: ['1'] })
  const written: { width: number; format: string } = await pool.run(
    { input: { path: 'in.jpg' }, output: { path: 'out.webp' }, width: 10, format: 'webp' },
    { name: 'resize', onProgress: (fraction: number) => void fraction },
  )
  const fileDigest: string = await pool.run({ data: { path: 'big.bin' }, algorithm: 'sha256' }, 'hash')
  // @ts-expect-error a path is given as { path }
  await pool.run({ input: 'in.jpg', output: 'out.webp', width: 10 }, 'resize')
  cancelLostJobs(new Worker('cpu', createProcessor(pool, { timeout: 60_000 }), { connection: {} }))

  const limits: Limits = createLimits({ bcryptMaxCost: 11, timeouts: { resize: 5_000 } })
  createLimits(limitsFromEnv(process.env))
  createProcessor(pool, { limits })
  const bounded = checkTask(limits, 'hashPassword', { password: 'p', cost: 10 })
  await pool.run(bounded, { name: 'hashPassword', timeout: limits.timeouts.hashPassword })
  // @ts-expect-error a limit that does not exist
  createLimits({ bcryptMaxCots: 11 })
  // @ts-expect-error a deadline for a task that does not exist
  createLimits({ timeouts: { transcode: 10 } })
  // @ts-expect-error the policy is read-only
  limits.bcryptMaxCost = 31
  const csvJson: Buffer = await pool.run({ input: 'a,b', output: 'json' }, 'parseCsv')
  pool.on('drain', () => {})
  pool.on('needsDrain', () => {})
  await pool.close({ force: true })
  pool.on('error', (error) => error.code satisfies string | undefined)
  await pool.run(1, 'fib').catch((error: PoolError) => error.code satisfies string)
  void [
    small,
    big,
    recursive,
    digest,
    digestOf,
    raw,
    handedOver,
    encoded,
    ok,
    fields,
    rows,
    first,
    thumbnail,
    format,
    histogram,
    count,
    firstThread,
    fibRuns,
    aborted,
    saturated,
    csvJson,
    written,
    fileDigest,
  ]

  // @ts-expect-error no such hash algorithm
  await pool.run({ data: 'x', algorithm: 'sha999' }, 'hash')
  // @ts-expect-error hash takes no number
  await pool.run(42, 'hash')
  // @ts-expect-error verifyPassword needs the hash
  await pool.run({ password: 'p' }, 'verifyPassword')
  // @ts-expect-error functions cannot cross to a native thread
  await pool.run({ input: 'a', transform: (v: string) => v }, 'parseCsv')
  // @ts-expect-error no such output
  await pool.run({ input: 'a', output: 'table' }, 'parseCsv')
  // @ts-expect-error resize reads bytes, not a file name
  await pool.run({ input: 'photo.jpg', width: 10 }, 'resize')
  // @ts-expect-error no such fit
  await pool.run({ input: Buffer.alloc(0), fit: 'stretch' }, 'resize')
  // @ts-expect-error GIF is read, not written
  await pool.run({ input: Buffer.alloc(0), format: 'gif' }, 'resize')
  // @ts-expect-error unknown task name
  await pool.run(1, 'fibonacci')
  // @ts-expect-error fib takes no string
  await pool.run('10', 'fib')
  // @ts-expect-error no such algorithm
  await pool.run({ n: 1, algorithm: 'magic' }, 'fib')
  // @ts-expect-error a name is required
  await pool.run(1, { priority: 1 })
  // @ts-expect-error maxQueue is a number or 'auto'
  new Pool({ maxQueue: 'many' })
  // @ts-expect-error options are read-only
  pool.options.maxThreads = 3

  await pool[Symbol.asyncDispose]()
  await pool.close()
  await pool.destroy()
}
void usage
