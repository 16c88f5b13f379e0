'use strict'
// The service as users build it without cisterna, for `npm run bench:server`: express 5,
// express.raw bodies, sharp for /resize, Piscina workers running node:crypto and Papa Parse
// for /hash and /csv, @node-rs/bcrypt for /password. Same routes and answers as
// examples/server.js.

const path = require('node:path')
const express = require('express')
const { Piscina } = require('piscina')
const sharp = require('sharp')
const bcrypt = require('@node-rs/bcrypt')

const piscina = new Piscina({ filename: path.join(__dirname, 'baseline-worker.js') })
const typed = (value) =>
  value === 'true' ? true : value === 'false' ? false : /^\d+$/.test(value) ? Number(value) : value

const app = express()
app.disable('x-powered-by')
const raw = express.raw({ type: () => true, limit: '64mb' })

app.get('/health', (_req, res) => res.type('text/plain').send('ok'))

app.post('/hash', raw, async (req, res) => {
  res
    .type('text/plain')
    .send(await piscina.run({ data: req.body, algorithm: req.query.algorithm ?? 'sha256' }, { name: 'hash' }))
})

app.post('/resize', raw, async (req, res) => {
  const { width, height, fit, format, quality } = Object.fromEntries(
    Object.entries(req.query).map(([k, v]) => [k, typed(v)]),
  )
  let image = sharp(req.body).resize({ width, height, fit })
  if (format !== undefined) image = image.toFormat(format, { quality })
  const { data, info } = await image.toBuffer({ resolveWithObject: true })
  res.type(`image/${info.format}`).send(data)
})

app.post('/csv', raw, async (req, res) => {
  const options = Object.fromEntries(Object.entries(req.query).map(([k, v]) => [k, typed(v)]))
  res.json(await piscina.run({ text: req.body.toString('utf8'), options }, { name: 'csv' }))
})

app.post('/password', express.json(), async (req, res) => {
  res.json({ hash: await bcrypt.hash(req.body.password, req.body.cost ?? 10) })
})

// As the example does: a client gone mid-request is not an error worth a log line.
app.use((error, req, res, _next) => {
  if (req.socket.destroyed) return
  res.status(error.status ?? 500).json({ code: error.code ?? 'ERR_INTERNAL', message: error.message })
})

const server = app.listen(Number(process.env.PORT ?? 3001), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`)
})
