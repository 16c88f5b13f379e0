'use strict'
// How a pool lives with its process: exit when idle, stay while busy, survive a worker's end.
const test = require('ava')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const root = path.join(__dirname, '..')

function node(args, script) {
  const result = spawnSync(process.execPath, [...args, '-e', script], { cwd: root, encoding: 'utf8', timeout: 30_000 })
  return { ...result, timedOut: result.error?.code === 'ETIMEDOUT' }
}

test('an idle pool does not keep the process alive', (t) => {
  const result = node(
    [],
    `
    const { Pool } = require('.')
    const pool = new Pool({ maxThreads: 2, minThreads: 2 })
    pool.run(20, 'fib').then((value) => console.log('value', value))
  `,
  )
  t.false(result.timedOut, 'the process exited by itself')
  t.is(result.status, 0, result.stderr)
  t.is(result.stdout.trim(), 'value 6765')
})

test('JS workers, idle once their tasks are done, do not keep the process alive; while one runs, it does', (t) => {
  const result = node(
    [],
    `
    const { Pool } = require('.')
    const pool = new Pool({ maxThreads: 2, filename: require('node:path').resolve('examples/worker.js') })
    pool.run(20, { name: 'fib' }).then((value) => console.log('value', value))
    pool.run(30, { name: 'fib' }).then((value) => console.log('value', value))
  `,
  )
  t.false(result.timedOut, 'the process exited by itself')
  t.is(result.status, 0, result.stderr)
  t.deepEqual(result.stdout.trim().split('\n').sort(), ['value 6765', 'value 832040'])
})

test('a pool with tasks in flight keeps the process alive until they finish', (t) => {
  const result = node(
    [],
    `
    const { Pool } = require('.')
    const pool = new Pool(1)
    pool.run({ n: 36, algorithm: 'recursive' }, 'fib').then((value) => console.log('value', value))
  `,
  )
  t.is(result.status, 0, result.stderr)
  t.is(result.stdout.trim(), 'value 14930352')
})

test('niceIncrement lowers the priority of the pool threads only (Linux)', (t) => {
  if (process.platform !== 'linux') return t.pass('nice values are per thread on Linux only')
  const result = node(
    [],
    `
    const fs = require('node:fs')
    const { Pool } = require('.')
    const pool = new Pool({ maxThreads: 2, minThreads: 2, niceIncrement: 7 })
    // /proc/self/task/<tid>/stat: the name in parentheses, then the 19th field is nice.
    const threads = () =>
      fs.readdirSync('/proc/self/task').flatMap((tid) => {
        const stat = fs.readFileSync('/proc/self/task/' + tid + '/stat', 'utf8')
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
        const nice = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]
        if (tid === String(process.pid)) return ['main ' + nice]
        return name.startsWith('cisterna') ? ['worker ' + nice] : []
      })
    // A thread names itself and lowers its priority as it starts, which may come a little
    // after the first task's result: look until both workers have, for up to 5 s.
    const look = async () => {
      for (let i = 0; i < 500; i++) {
        const seen = threads()
        if (seen.filter((line) => line.startsWith('worker') && line !== 'worker 0').length === 2) return seen
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      return threads()
    }
    pool.run(10, 'fib').then(look).then((seen) => {
      for (const line of seen) console.log(line)
      return pool.close()
    })
  `,
  )
  t.is(result.status, 0, result.stderr)
  const lines = result.stdout.trim().split('\n').sort()
  const mainNice = Number(lines.find((line) => line.startsWith('main')).split(' ')[1])
  t.deepEqual(lines, [`main ${mainNice}`, `worker ${mainNice + 7}`, `worker ${mainNice + 7}`])
})

test('a closing pool keeps the process alive until close resolves', (t) => {
  const result = node(
    [],
    `
    const { Pool } = require('.')
    const pool = new Pool(2)
    for (let i = 0; i < 1000; i++) pool.run(i % 60, 'fib')
    pool.close().then(() => console.log('closed', pool.completed, pool.threads.length))
  `,
  )
  t.is(result.status, 0, result.stderr)
  t.is(result.stdout.trim(), 'closed 1000 0')
})

test('ESM import works', (t) => {
  const result = node(
    ['--input-type=module'],
    `
    import { Pool } from 'cisterna'
    import cisterna from 'cisterna'
    const pool = new Pool(1)
    console.log(await pool.run(12, 'fib'), cisterna.Pool === Pool)
    await pool.close()
  `,
  )
  t.is(result.status, 0, result.stderr)
  t.is(result.stdout.trim(), '144 true')
})

test('terminating a worker_thread with thousands of tasks in flight does not crash or hang', (t) => {
  const result = node(
    [],
    `
    const { Worker } = require('node:worker_threads')
    const inWorker = \`
      const { parentPort } = require('node:worker_threads')
      const { Pool } = require(${JSON.stringify(root)})
      const pool = new Pool(2)
      // The signal goes first: threads start while the rest is still being queued, so a
      // later task could find both threads held by the endless recursive ones.
      pool.run(10, 'fib').then(() => parentPort.postMessage('busy'))
      for (let i = 0; i < 20000; i++) pool.run(i % 90, 'fib').catch(() => {})
      for (let i = 0; i < 4; i++) pool.run({ n: 90, algorithm: 'recursive' }, 'fib').catch(() => {})
    \`
    let rounds = 0
    const round = () => {
      const worker = new Worker(inWorker, { eval: true })
      worker.once('message', async () => {
        await worker.terminate()
        if (++rounds < 5) round()
        else console.log('survived', rounds)
      })
      worker.once('error', (error) => { console.error(error); process.exit(1) })
    }
    round()
  `,
  )
  t.false(result.timedOut, 'the process did not hang')
  t.is(result.status, 0, result.stderr)
  t.is(result.stdout.trim(), 'survived 5')
})

test('a pool inside a worker_thread works and lets the worker exit', (t) => {
  const result = node(
    [],
    `
    const { Worker } = require('node:worker_threads')
    const worker = new Worker(\`
      const { parentPort } = require('node:worker_threads')
      const { Pool } = require(${JSON.stringify(root)})
      const pool = new Pool(2)
      Promise.all([pool.run(30, 'fib'), pool.run(31, 'fib')]).then((values) => parentPort.postMessage(values))
    \`, { eval: true })
    worker.on('message', (values) => console.log(values.join(',')))
    worker.on('exit', (code) => console.log('exit', code))
  `,
  )
  t.is(result.status, 0, result.stderr)
  t.is(result.stdout.trim(), '832040,1346269\nexit 0')
})

test('every way a pool ends leaves no thread behind, and the ended pool is collected', (t) => {
  if (process.platform !== 'linux') {
    t.pass('threads are counted from /proc')
    return
  }
  // The fifth way, the environment torn down with work in flight, is the worker_thread test above.
  const result = node(
    ['--expose-gc'],
    `
    const fs = require('node:fs')
    const { Pool } = require('.')
    const comm = (id) => { try { return fs.readFileSync('/proc/self/task/' + id + '/comm', 'utf8') } catch { return '' } }
    const workers = () => fs.readdirSync('/proc/self/task').filter((id) => comm(id).startsWith('cisterna-worker')).length
    const collected = new Set()
    const registry = new FinalizationRegistry((way) => collected.add(way))
    const ways = {
      close: (pool) => pool.close(),
      'close force': (pool) => pool.close({ force: true }),
      destroy: (pool) => pool.destroy(),
    }
    ;(async () => {
      const threads = {}
      for (const [way, end] of Object.entries(ways)) {
        let pool = new Pool({ maxThreads: 2, minThreads: 2 })
        for (let i = 0; i < 200; i++) pool.run(i % 30, 'fib').catch(() => {})
        if (way === 'destroy') pool.run({ n: 90, algorithm: 'recursive' }, 'fib').catch(() => {})
        // A thread names itself as it starts: wait for both names.
        for (let i = 0; i < 500 && workers() < 2; i++) await new Promise((resolve) => setTimeout(resolve, 2))
        threads[way] = [workers()]
        await end(pool)
        await end(pool)
        threads[way].push(workers())
        registry.register(pool, way)
        pool = undefined
      }
      for (let i = 0; i < 100 && collected.size < 3; i++) {
        global.gc()
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      console.log(JSON.stringify({ threads, collected: [...collected].sort() }))
    })()
  `,
  )
  t.is(result.status, 0, result.stderr)
  const { threads, collected } = JSON.parse(result.stdout)
  for (const [way, [before, after]] of Object.entries(threads)) {
    t.is(before, 2, `${way}: the pool's threads were running`)
    t.is(after, 0, `${way}: no thread is left once it resolved, even called twice`)
  }
  t.deepEqual(collected, ['close', 'close force', 'destroy'], 'each ended pool was collected')
})
