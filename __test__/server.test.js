'use strict'
// examples/server.js, run as users run it (its own process, real HTTP), its answers held
// against node:crypto, Papa Parse, sharp and bcryptjs.

const test = require('ava')
const { createHash } = require('node:crypto')
const http = require('node:http')
const net = require('node:net')
const path = require('node:path')
const bcryptjs = require('bcryptjs')
const sharp = require('sharp')
const { photo, prng } = require('../fixtures/images.js')
const { parseQuietly } = require('../fixtures/papa.js')
const { startService } = require('../fixtures/service.js')

const SERVER = path.join(__dirname, '..', 'examples', 'server.js')

const startServer = (env) => startService(SERVER, env)

function request(url, route, { body, json, method = body === undefined && json === undefined ? 'GET' : 'POST' } = {}) {
  const headers = {}
  if (json !== undefined) {
    headers['content-type'] = 'application/json'
    body = typeof json === 'string' ? json : JSON.stringify(json)
  }
  return fetch(url + route, { method, body, headers })
}

/** The value of a sample in the server's /metrics, or undefined. */
async function metric(url, sample) {
  const text = await (await request(url, '/metrics')).text()
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `))
  return line === undefined ? undefined : Number(line.slice(sample.length + 1))
}

/** Waits until `count` tasks named `task` have left the queue for a thread. */
async function started(t, url, task, count) {
  const deadline = Date.now() + 10_000
  while ((await metric(url, `cisterna_task_wait_seconds_count{task="${task}"}`)) !== count) {
    if (Date.now() > deadline) t.fail(`${count} ${task} tasks never started`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** A JSON POST over its own connection, which `hangUp` closes before any answer. */
function openRequest(url, route, json) {
  const body = JSON.stringify(json)
  const req = http.request(url + route, {
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
  })
  const answered = new Promise((resolve, reject) => {
    req.on('response', (res) => {
      let text = ''
      res.on('data', (chunk) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) }))
    })
    req.on('error', reject)
  })
  answered.catch(() => {})
  req.end(body)
  return { answered, hangUp: () => req.destroy() }
}

test.before(async (t) => {
  t.context.server = await startServer()
  t.context.url = t.context.server.url
})

test.after.always(async (t) => {
  t.context.server?.child.kill('SIGKILL')
})

test('GET /health is ok', async (t) => {
  const response = await request(t.context.url, '/health')
  t.is(response.status, 200)
  t.is(await response.text(), 'ok')
})

test('POST /hash gives node:crypto digests for every algorithm it shares', async (t) => {
  const random = prng(7)
  const bodies = [
    Buffer.alloc(0),
    Buffer.from('abc'),
    Buffer.from(Array.from({ length: 3 << 20 }, () => random() * 256)),
  ]
  for (const algorithm of ['sha256', 'sha1', 'md5', 'sha512', 'sha3-256']) {
    for (const body of bodies) {
      const response = await request(t.context.url, `/hash?algorithm=${algorithm}`, { body })
      t.is(response.status, 200)
      t.is(
        await response.text(),
        createHash(algorithm).update(body).digest('hex'),
        `${algorithm} of ${body.length} bytes`,
      )
    }
  }
  const plain = await request(t.context.url, '/hash', { body: 'abc' })
  t.is(await plain.text(), createHash('sha256').update('abc').digest('hex'), 'sha256 by default')
})

test('POST /resize answers the image sharp would size, with its content type', async (t) => {
  const input = await photo(640, 480, 'jpeg')
  for (const [query, width, height, format] of [
    ['width=160&height=100&fit=cover&format=png', 160, 100, 'png'],
    ['width=160&fit=inside', 160, 120, 'jpeg'],
    ['width=100&height=100&fit=contain&format=webp&quality=50', 100, 100, 'webp'],
  ]) {
    const response = await request(t.context.url, `/resize?${query}`, { body: input })
    t.is(response.status, 200, query)
    t.is(response.headers.get('content-type'), `image/${format}`)
    const image = Buffer.from(await response.arrayBuffer())
    const metadata = await sharp(image).metadata()
    t.deepEqual([metadata.width, metadata.height, metadata.format], [width, height, format], query)
    const { searchParams } = new URL(`http://x/?${query}`)
    const resize = { width: Number(searchParams.get('width')), fit: searchParams.get('fit') }
    if (searchParams.has('height')) resize.height = Number(searchParams.get('height'))
    const { info } = await sharp(input).resize(resize).toBuffer({ resolveWithObject: true })
    t.deepEqual([info.width, info.height], [width, height], `sharp sizes ${query} the same`)
  }
})

test('POST /csv answers what Papa Parse gives, as JSON', async (t) => {
  const random = prng(3)
  const rows = ['id,name,score,active,when,note']
  for (let i = 0; i < 2000; i++) {
    const note = random() < 0.1 ? '"a, quoted ""note"""' : random() < 0.1 ? '' : `n${i}`
    rows.push(
      `${i},name ${i % 37},${(random() * 1000).toFixed(3)},${random() < 0.5},2024-01-0${1 + (i % 9)}T10:00:00Z,${note}`,
    )
  }
  const csv = `${rows.join('\n')}\n`
  for (const query of [
    'header=true&dynamicTyping=true',
    'header=false',
    'header=true&skipEmptyLines=true&preview=50',
  ]) {
    const options = Object.fromEntries(
      [...new URLSearchParams(query)].map(([key, value]) => [
        key,
        /^\d+$/.test(value) ? Number(value) : value === 'true',
      ]),
    )
    const response = await request(t.context.url, `/csv?${query}`, { body: csv })
    t.is(response.status, 200)
    t.regex(response.headers.get('content-type'), /application\/json/)
    t.deepEqual(await response.json(), JSON.parse(JSON.stringify(parseQuietly(csv, options))), query)
  }
})

test('POST /password makes bcrypt hashes bcryptjs accepts, and /password/verify checks them', async (t) => {
  const made = await request(t.context.url, '/password', { json: { password: 'correct horse', cost: 5 } })
  t.is(made.status, 200)
  const { hash } = await made.json()
  t.regex(hash, /^\$2b\$05\$/)
  t.true(bcryptjs.compareSync('correct horse', hash))
  const byBcryptjs = bcryptjs.hashSync('battery staple', 4)
  for (const [password, ok] of [
    ['battery staple', true],
    ['battery stapler', false],
  ]) {
    const verified = await request(t.context.url, '/password/verify', { json: { password, hash: byBcryptjs } })
    t.deepEqual(await verified.json(), { ok })
  }
})

test('POST /invoice runs the service’s own worker file: totals, escaped HTML, and its errors as 400', async (t) => {
  const answer = await request(t.context.url, '/invoice', {
    json: {
      number: 'A<1>',
      taxRate: 0.2,
      lines: [
        { item: 'tea & cake', quantity: 2, unitPrice: 350 },
        { item: 'coffee', quantity: 1, unitPrice: 300 },
      ],
    },
  })
  t.is(answer.status, 200)
  const { subtotal, tax, total, html } = await answer.json()
  t.deepEqual([subtotal, tax, total], [1000, 200, 1200])
  t.true(html.includes('Invoice A&lt;1&gt;') && html.includes('tea &amp; cake') && html.includes('Total 12.00'), html)
  const bad = await request(t.context.url, '/invoice', {
    json: { lines: [{ item: 'x', quantity: 1.5, unitPrice: 1 }] },
  })
  t.is(bad.status, 400)
  t.is((await bad.json()).code, 'ERR_INVALID_ARG')
})

test('bad requests get their status and the pool code, and the server goes on', async (t) => {
  const url = t.context.url
  const tinyPng = await photo(20, 20, 'png')
  for (const [route, options, status, code] of [
    ['/hash?algorithm=md4', { body: 'x' }, 400, 'ERR_INVALID_ARG'],
    ['/resize?width=-5', { body: 'x' }, 400, 'ERR_INVALID_ARG'],
    ['/resize?width=10', { body: 'not an image' }, 400, 'ERR_TASK_FAILED'],
    ['/csv?preview=-1', { body: 'a,b' }, 400, 'ERR_INVALID_ARG'],
    ['/csv?delimiter=%2C&comments=%2C', { body: 'a,b' }, 400, 'ERR_INVALID_ARG'],
    ['/password', { json: '{"password": ' }, 400, 'ERR_INVALID_ARG'],
    ['/password', { json: 'null' }, 400, 'ERR_INVALID_ARG'],
    ['/password', { json: { password: 'x', cost: 99 } }, 400, 'ERR_LIMIT_PASSWORD_COST'],
    ['/password', { json: { password: 'x', cost: 'high' } }, 400, 'ERR_INVALID_ARG'],
    ['/password/verify', { json: { password: 'x', hash: '$2b$nonsense' } }, 400, 'ERR_INVALID_ARG'],
    ['/nowhere', {}, 404, 'ERR_NOT_FOUND'],
    ['/hash', { body: Buffer.alloc((64 << 20) + 1) }, 413, 'ERR_LIMIT_HASH_BYTES'],
    ['/resize?width=10&limitInputPixels=100', { body: tinyPng }, 413, 'ERR_INPUT_TOO_LARGE'],
  ]) {
    const response = await request(url, route, options)
    t.is(response.status, status, route)
    const body = await response.json()
    t.is(body.code, code, `${route}: ${body.message}`)
    t.is(typeof body.message, 'string')
  }
  t.is((await request(url, '/health')).status, 200)
})

test('GET /metrics counts the requests made, by task and outcome', async (t) => {
  const { url, child } = await startServer()
  try {
    await Promise.all(Array.from({ length: 5 }, () => request(url, '/hash', { body: 'abc' })))
    await request(url, '/hash?algorithm=nope', { body: 'abc' })
    await request(url, '/csv?header=true', { body: 'a\n1\n' })
    const text = await (await request(url, '/metrics')).text()
    const value = (sample) => {
      const line = text.split('\n').find((l) => l.startsWith(`${sample} `))
      return line === undefined ? undefined : Number(line.slice(sample.length + 1))
    }
    t.is(value('cisterna_tasks_total{task="hash",outcome="ok"}'), 5)
    t.is(value('cisterna_tasks_total{task="hash",outcome="ERR_INVALID_ARG"}'), 1)
    t.is(value('cisterna_tasks_total{task="parseCsv",outcome="ok"}'), 1)
    t.is(value('cisterna_task_duration_seconds_count{task="hash"}'), 5)
    t.is(value('cisterna_task_wait_seconds_count{task="parseCsv"}'), 1)
    t.is(value('cisterna_queue_size'), 0)
    t.true(value('cisterna_threads') >= 1)
    t.true(value('nodejs_eventloop_lag_seconds') >= 0, "prom-client's default metrics are there too")
  } finally {
    child.kill('SIGKILL')
  }
})

test('a full queue is 503 with Retry-After, and the requests it took succeed', async (t) => {
  const { url, child } = await startServer({ MAX_QUEUE: '0' })
  try {
    const responses = await Promise.all(
      Array.from({ length: 12 }, () => request(url, '/password', { json: { password: 'p', cost: 11 } })),
    )
    const statuses = responses.map((r) => r.status)
    t.true(statuses.includes(503), statuses.join())
    t.true(statuses.includes(200), statuses.join())
    for (const response of responses) {
      const body = await response.json()
      if (response.status === 503) {
        t.is(response.headers.get('retry-after'), '1')
        t.is(body.code, 'ERR_QUEUE_FULL')
      } else {
        t.true(bcryptjs.compareSync('p', body.hash))
      }
    }
  } finally {
    child.kill('SIGKILL')
  }
})

test('SIGTERM lets the request in flight finish, then the server exits 0, even with a busy keep-alive client', async (t) => {
  const { url, child, exited } = await startServer({ GRACE_MS: '60000', BCRYPT_MAX_COST: '13' })
  const inFlight = request(url, '/password', { json: { password: 'slow', cost: 13 } })
  // A client that never stops asking, on kept-alive connections: it must not hold the exit.
  let busy = true
  const busyClient = (async () => {
    let answered = 0
    while (busy) {
      try {
        if ((await request(url, '/health')).ok) answered++
      } catch {
        return answered
      }
    }
    return answered
  })()
  await started(t, url, 'hashPassword', 1)
  child.kill('SIGTERM')
  const response = await inFlight
  t.is(response.status, 200)
  t.true(bcryptjs.compareSync('slow', (await response.json()).hash))
  const { code, signal, stderr } = await exited
  busy = false
  t.deepEqual({ code, signal }, { code: 0, signal: null }, stderr)
  t.true((await busyClient) > 0, 'the busy client was answered until the end')
  await t.throwsAsync(request(url, '/health'), undefined, 'no longer listening')
})

test('what a client may ask for is bounded: heavy costs, huge images and big CSVs are refused at once, and run nothing', async (t) => {
  const { url, child } = await startServer({ CSV_MAX_BYTES: '1000' })
  try {
    for (const [route, options, status, code] of [
      ['/password', { json: { password: 'x', cost: 31 } }, 400, 'ERR_LIMIT_PASSWORD_COST'],
      ['/password', { json: { password: 'x', algorithm: 'argon2id', cost: 64 } }, 400, 'ERR_LIMIT_PASSWORD_COST'],
      ['/password', { json: { password: 'x', algorithm: 'scrypt', cost: 20 } }, 400, 'ERR_LIMIT_PASSWORD_COST'],
      ['/password', { json: { password: 'x'.repeat(5000) } }, 400, 'ERR_LIMIT_PASSWORD_LENGTH'],
      [
        '/password/verify',
        { json: { password: 'x', hash: '$2b$31$abcdefghijklmnopqrstuuAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } },
        400,
        'ERR_LIMIT_PASSWORD_COST',
      ],
      [
        '/password/verify',
        { json: { password: 'x', hash: '$argon2id$v=19$m=1048576,t=64,p=1$c2FsdHNhbHQ$aGFzaA' } },
        400,
        'ERR_LIMIT_PASSWORD_COST',
      ],
      [
        '/password/verify',
        { json: { password: 'x', hash: '$scrypt$ln=20,r=8,p=1$c2FsdHNhbHQ$aGFzaA' } },
        400,
        'ERR_LIMIT_PASSWORD_COST',
      ],
      ['/resize?width=100000&height=100000', { body: 'x' }, 400, 'ERR_LIMIT_IMAGE_DIMENSION'],
      ['/resize?width=10&limitInputPixels=0', { body: 'x' }, 400, 'ERR_LIMIT_IMAGE_PIXELS'],
      ['/csv', { body: 'a,b\n'.repeat(300) }, 413, 'ERR_LIMIT_CSV_BYTES'],
    ]) {
      const response = await request(url, route, options)
      const body = await response.json()
      t.deepEqual([response.status, body.code], [status, code], `${route}: ${body.message}`)
    }
    const ran = await metric(url, 'cisterna_task_wait_seconds_count{task="hashPassword"}')
    t.is(ran ?? 0, 0, 'no password task reached a thread')
    const small = await request(url, '/csv', { body: 'a,b\n1,2\n' })
    t.is(small.status, 200, 'a CSV within the bound is parsed')
  } finally {
    child.kill('SIGKILL')
  }
})

test('clients that hang up stop their tasks: a tiny request after two abandoned heavy ones is answered', async (t) => {
  const { url, child } = await startServer({
    MAX_THREADS: '2',
    BCRYPT_MAX_COST: '31',
    HASH_PASSWORD_TIMEOUT_MS: '3600000',
  })
  try {
    // bcrypt at cost 24 holds a thread for many minutes unless it is stopped.
    const heavy = [0, 1].map(() => openRequest(url, '/password', { password: 'p', cost: 24 }))
    await started(t, url, 'hashPassword', 2)
    for (const { hangUp } of heavy) hangUp()
    const tiny = request(url, '/hash', { body: 'abc' })
    const late = new Promise((resolve) => setTimeout(resolve, 10_000, 'late').unref())
    const response = await Promise.race([tiny, late])
    t.not(response, 'late', 'the tiny request waited behind the abandoned work')
    t.is(await response.text(), createHash('sha256').update('abc').digest('hex'))
    t.is(await metric(url, 'cisterna_tasks_total{task="hashPassword",outcome="ERR_ABORTED"}'), 2)
  } finally {
    child.kill('SIGKILL')
  }
})

// Serial: its deadline is measured, so it runs before the other tests load the machine.
test.serial(
  'SIGTERM with a task that would run for minutes: its client gets 503 and the server exits 0 within GRACE_MS',
  async (t) => {
    const GRACE_MS = 1000
    const { url, child, exited } = await startServer({
      GRACE_MS: String(GRACE_MS),
      BCRYPT_MAX_COST: '31',
      HASH_PASSWORD_TIMEOUT_MS: '3600000',
    })
    const endless = openRequest(url, '/password', { password: 'p', cost: 24 })
    await started(t, url, 'hashPassword', 1)
    const signalled = Date.now()
    child.kill('SIGTERM')
    const { status, body } = await endless.answered
    t.deepEqual([status, body.code], [503, 'ERR_POOL_CLOSED'])
    const { code, signal, stderr } = await exited
    const took = Date.now() - signalled
    t.deepEqual({ code, signal }, { code: 0, signal: null }, stderr)
    t.true(took >= GRACE_MS, `exited after ${took} ms, before the grace period was over`)
    t.true(took <= GRACE_MS + 2000, `exited ${took} ms after SIGTERM`)
  },
)

test('a client trickling its headers one line a second is answered 408 and cut off', async (t) => {
  const { url, child } = await startServer({ HEADERS_TIMEOUT_MS: '2000' })
  try {
    const { port } = new URL(url)
    const socket = net.connect(Number(port), '127.0.0.1')
    let answer = ''
    socket.on('data', (chunk) => (answer += chunk))
    socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n')
    let lines = 0
    const trickle = setInterval(() => socket.write(`X-Slow-${++lines}: 1\r\n`), 1000)
    await new Promise((resolve) => socket.once('close', resolve))
    clearInterval(trickle)
    t.true(lines < 10, `the connection was still open after ${lines} header lines`)
    t.regex(answer, /^HTTP\/1\.1 408/)
    t.is((await request(url, '/health')).status, 200, 'others are still served')
  } finally {
    child.kill('SIGKILL')
  }
})
