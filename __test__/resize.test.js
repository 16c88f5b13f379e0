'use strict'
// resize against sharp: the same output sizes for every fit, pixels within 32 dB PSNR, EXIF
// orientation, every input kind; and hostile bytes of every format never crash or hang.
const test = require('ava')
const sharp = require('sharp')
const { Pool } = require('..')
const { abortRuns } = require('./helpers.js')
const { photo, photoPixels, prng } = require('../fixtures/images')

let pool
const inputs = {}
test.before(async () => {
  pool = new Pool(2)
  inputs.jpeg = await photo(640, 427, 'jpeg', { quality: 92 })
  inputs.png = await photo(320, 240, 'png', { channels: 4, seed: 2 })
  inputs.webp = await photo(300, 200, 'webp', { quality: 90, seed: 3 })
  inputs.gif = await photo(120, 90, 'gif', { seed: 4 })
})
test.after.always(() => pool.close())

const resize = (options) => pool.run(options, 'resize')

/**
 * PSNR of two encoded images, both decoded by sharp (so only the pipelines differ) and
 * flattened onto white: what a viewer sees, without the colour of invisible pixels.
 */
async function psnr(ours, theirs) {
  const a = await sharp(ours).flatten({ background: '#ffffff' }).raw().toBuffer({ resolveWithObject: true })
  const b = await sharp(theirs).flatten({ background: '#ffffff' }).raw().toBuffer({ resolveWithObject: true })
  if (a.info.width !== b.info.width || a.info.height !== b.info.height) return -Infinity
  let sum = 0
  for (let i = 0; i < a.data.length; i++) sum += (a.data[i] - b.data[i]) ** 2
  const mse = sum / a.data.length
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse)
}

/** sharp's output for the same options (auto-oriented, as resize always is). */
function withSharp(input, { width, height, format, quality = 80, ...options }) {
  const pipeline = sharp(input).rotate().resize(width, height, options)
  return (format ? pipeline.toFormat(format, { quality }) : pipeline).toBuffer({ resolveWithObject: true })
}

test('output sizes equal sharp for every fit, size and position', async (t) => {
  const sizes = [
    [100, 100],
    [300, 80],
    [50, 400],
    [1000, 700],
    [641, 427],
    [200, undefined],
    [undefined, 33],
    [1, 1],
  ]
  const fits = ['cover', 'contain', 'fill', 'inside', 'outside']
  const jobs = []
  for (const [width, height] of sizes) {
    for (const fit of fits) {
      for (const withoutEnlargement of [false, true]) {
        // JPEG from a JPEG and a WebP (each with its shrink-on-load) and from a PNG with alpha.
        for (const source of ['jpeg', 'png', 'webp']) {
          jobs.push({
            source,
            width,
            height,
            fit,
            withoutEnlargement,
            position: fit === 'cover' ? 'northeast' : 'south',
          })
        }
      }
    }
  }
  for (const { source, ...options } of jobs) {
    const input = inputs[source]
    const [ours, theirs] = await Promise.all([
      resize({ input, ...options, format: 'jpeg', resolveWithObject: true }),
      withSharp(input, { ...options, format: 'jpeg' }),
    ])
    t.deepEqual(
      [ours.info.width, ours.info.height],
      [theirs.info.width, theirs.info.height],
      `${source} ${JSON.stringify(options)}`,
    )
  }
})

test('output sizes equal sharp over random images and options', async (t) => {
  const random = prng(11)
  const pick = (list) => list[Math.floor(random() * list.length)]
  for (let i = 0; i < 24; i++) {
    const [width, height] = [1 + Math.floor(random() * 700), 1 + Math.floor(random() * 500)]
    const format = pick(['jpeg', 'png', 'webp'])
    const input = await photo(width, height, format, { quality: 90, seed: i, channels: format === 'png' ? 4 : 3 })
    for (let j = 0; j < 5; j++) {
      const options = {
        width: random() < 0.15 ? undefined : 1 + Math.floor(random() * 400),
        height: random() < 0.15 ? undefined : 1 + Math.floor(random() * 400),
        fit: pick(['cover', 'contain', 'fill', 'inside', 'outside']),
        kernel: pick(['nearest', 'linear', 'cubic', 'mitchell', 'lanczos2', 'lanczos3']),
        position: pick(['centre', 'north', 'southeast', 'west']),
        withoutEnlargement: random() < 0.3,
      }
      const [ours, theirs] = await Promise.all([
        resize({ input, ...options, format: 'jpeg', resolveWithObject: true }),
        withSharp(input, { ...options, format: 'jpeg' }),
      ])
      const what = `${format} ${width}×${height} ${JSON.stringify(options)}`
      t.deepEqual([ours.info.width, ours.info.height], [theirs.info.width, theirs.info.height], what)
    }
  }
})

test('pixels are within 32 dB PSNR of sharp at q90 for every kernel and fit', async (t) => {
  const kernels = ['nearest', 'linear', 'cubic', 'mitchell', 'lanczos2', 'lanczos3']
  for (const kernel of kernels) {
    for (const fit of ['cover', 'contain', 'fill', 'inside', 'outside']) {
      const options = { width: 200, height: 150, kernel, fit, quality: 90, format: 'jpeg', background: '#336699' }
      const ours = await resize({ input: inputs.jpeg, ...options })
      const { data: theirs } = await withSharp(inputs.jpeg, { ...options, background: '#336699' })
      const db = await psnr(ours, theirs)
      t.true(db >= 32, `${kernel} ${fit}: ${db.toFixed(1)} dB`)
    }
  }
})

test('the issue job: 2725×2225 JPEG to 720×588 at q90 is within 32 dB of sharp', async (t) => {
  const input = await photo(2725, 2225, 'jpeg', { quality: 90, seed: 9 })
  const options = { width: 720, height: 588, quality: 90, kernel: 'lanczos3' }
  const ours = await resize({ input, ...options, resolveWithObject: true })
  const theirs = await withSharp(input, { ...options, format: 'jpeg' })
  t.deepEqual([ours.info.width, ours.info.height], [720, 588])
  const db = await psnr(ours.data, theirs.data)
  t.true(db >= 32, `${db.toFixed(1)} dB`)
})

test('every input kind decodes and matches sharp: grey, CMYK, progressive, 16-bit, palette, lossless WebP, GIF', async (t) => {
  const raw = (channels, w = 160, h = 120) =>
    sharp(photoPixels(w, h, { channels, seed: 5 }), { raw: { width: w, height: h, channels } })
  const cases = {
    'grey JPEG': await raw(1).jpeg({ quality: 92 }).toBuffer(),
    'progressive JPEG': await raw(3).jpeg({ quality: 92, progressive: true }).toBuffer(),
    'CMYK JPEG': await raw(3).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer(),
    '16-bit PNG': await raw(3).toColourspace('rgb16').png().toBuffer(),
    'grey + alpha PNG': await raw(2).png().toBuffer(),
    'palette PNG': await raw(3).png({ palette: true }).toBuffer(),
    'lossless WebP with alpha': await raw(4).webp({ lossless: true }).toBuffer(),
    'lossy WebP': inputs.webp,
    GIF: inputs.gif,
  }
  for (const [name, input] of Object.entries(cases)) {
    const options = { width: 80, height: 60, format: 'png' }
    const ours = await resize({ input, ...options, resolveWithObject: true })
    const theirs = await withSharp(input, options)
    t.deepEqual([ours.info.width, ours.info.height], [theirs.info.width, theirs.info.height], name)
    // A plain CMYK conversion is not sharp's ICC one: it is held to a looser bound.
    const floor = name === 'CMYK JPEG' ? 15 : 30
    const db = await psnr(ours.data, theirs.data)
    t.true(db >= floor, `${name}: ${db.toFixed(1)} dB`)
  }
})

/** A 4.8-megapixel PNG, made once for the tests that need an image large enough to split. */
let largePng
const largePngOnce = () => {
  largePng ??= photo(2400, 2000, 'png', { seed: 9 })
  return largePng
}

// From about 4 megapixels, resampling runs in bands (a PNG's while it is decoded) and a PNG is
// compressed in parts, on whichever threads are free: the bytes must not depend on how many.
test('large images give the same bytes on one thread as on two, within 32 dB of sharp', async (t) => {
  const one = new Pool({ maxThreads: 1 })
  try {
    const big = await largePngOnce()
    for (const [source, options] of [
      [big, { width: 500, format: 'png' }],
      // Far down: bands of fewer rows, each reading as many source pixels.
      [big, { width: 80, format: 'png' }],
      [
        await photo(2300, 1900, 'png', { channels: 4, seed: 6 }),
        { width: 700, height: 600, fit: 'fill', format: 'png' },
      ],
      [await photo(3000, 2200, 'jpeg', { quality: 92, seed: 7 }), { width: 2000, format: 'webp' }],
    ]) {
      const label = JSON.stringify(options)
      const onOne = await one.run({ input: source, ...options }, 'resize')
      const onTwo = await resize({ input: source, ...options })
      t.true(onOne.equals(onTwo), label)
      const theirs = await withSharp(source, options)
      const db = await psnr(onTwo, theirs.data)
      t.true(db >= 32, `${label}: ${db.toFixed(1)} dB`)
    }
  } finally {
    await one.close()
  }
})

// Aborts a microtask after run, and on timers (see `abortRuns`): never part of an image.
test('aborting a large resize while its bands run rejects it, and the pool goes on', async (t) => {
  const input = await largePngOnce()
  const options = { input, width: 900, format: 'png' }
  const whole = await resize(options)
  await abortRuns(t, pool, options, 'resize', [undefined, undefined, 5, 20, 50], (png) => whole.equals(png))
  t.true(whole.equals(await resize(options)))
})

test('EXIF orientation is applied like sharp().rotate(), and not carried over', async (t) => {
  for (let orientation = 1; orientation <= 8; orientation++) {
    const input = await sharp(inputs.jpeg).withMetadata({ orientation }).jpeg({ quality: 92 }).toBuffer()
    const options = { width: 120, height: 200, fit: 'inside', format: 'jpeg', quality: 90 }
    const ours = await resize({ input, ...options, resolveWithObject: true })
    const theirs = await withSharp(input, options)
    t.deepEqual(
      [ours.info.width, ours.info.height],
      [theirs.info.width, theirs.info.height],
      `orientation ${orientation}`,
    )
    t.true((await psnr(ours.data, theirs.data)) >= 32, `orientation ${orientation}`)
    t.is((await sharp(ours.data).metadata()).orientation, undefined)
  }
})

test('output formats, alpha and the info object', async (t) => {
  const webp = await resize({ input: inputs.png, width: 64, format: 'webp', resolveWithObject: true })
  t.deepEqual(webp.info, { width: 64, height: 48, format: 'webp', size: webp.data.length, channels: 4 })
  t.true((await sharp(webp.data).metadata()).hasAlpha)
  const jpeg = await resize({ input: inputs.png, width: 64, format: 'jpg', resolveWithObject: true })
  t.is(jpeg.info.channels, 3)
  t.is((await sharp(jpeg.data).metadata()).format, 'jpeg')
  // Default output format: the input's, and PNG for GIF.
  t.is((await sharp(await resize({ input: inputs.webp, width: 30 })).metadata()).format, 'webp')
  t.is((await sharp(await resize({ input: inputs.gif, width: 30 })).metadata()).format, 'png')
  const plain = await resize({ input: new Uint8Array(inputs.jpeg), width: 30 })
  t.true(Buffer.isBuffer(plain))
  // contain with a translucent background gives JPEG input an alpha channel in PNG output.
  const padded = await resize({
    input: inputs.jpeg,
    width: 100,
    height: 100,
    fit: 'contain',
    background: { r: 0, g: 0, b: 0, alpha: 0 },
    format: 'png',
  })
  const { data, info } = await sharp(padded).raw().toBuffer({ resolveWithObject: true })
  t.is(info.channels, 4)
  t.is(data[3], 0, 'the top-left corner is the transparent padding')
})

test('bad options are ERR_INVALID_ARG before anything runs', async (t) => {
  const bad = [
    [undefined, TypeError],
    [inputs.jpeg, TypeError],
    [{ width: 10 }, TypeError],
    [{ input: 'not bytes', width: 10 }, TypeError],
    [{ input: inputs.jpeg, width: 0 }, RangeError],
    [{ input: inputs.jpeg, width: 10.5 }, RangeError],
    [{ input: inputs.jpeg, height: '10' }, TypeError],
    [{ input: inputs.jpeg, fit: 'squash' }, TypeError],
    [{ input: inputs.jpeg, position: 'middle' }, TypeError],
    [{ input: inputs.jpeg, position: 9 }, RangeError],
    [{ input: inputs.jpeg, position: 'attention' }, TypeError],
    [{ input: inputs.jpeg, kernel: 'box' }, TypeError],
    [{ input: inputs.jpeg, format: 'tiff' }, TypeError],
    [{ input: inputs.jpeg, quality: 0 }, RangeError],
    [{ input: inputs.jpeg, withoutEnlargement: 1 }, TypeError],
    [{ input: inputs.jpeg, background: 'red' }, TypeError],
    [{ input: inputs.jpeg, background: { r: 300 } }, RangeError],
    [{ input: inputs.jpeg, limitInputPixels: -1 }, RangeError],
  ]
  for (const [data, type] of bad) {
    const error = await t.throwsAsync(resize(data), { instanceOf: type }, JSON.stringify(data)?.slice(0, 80))
    t.is(error.code, 'ERR_INVALID_ARG')
  }
})

/** A PNG whose header claims `width` × `height`, with one tiny IDAT: a decompression bomb. */
function pngHeaderClaiming(width, height) {
  const zlib = require('node:zlib')
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type), data])
    const out = Buffer.alloc(12 + data.length)
    out.writeUInt32BE(data.length, 0)
    body.copy(out, 4)
    out.writeUInt32BE(zlib.crc32(body), 8 + data.length)
    return out
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr.set([8, 2, 0, 0, 0], 8)
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.alloc(1000))),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

test('limitInputPixels is checked from the header: a bomb is ERR_INPUT_TOO_LARGE', async (t) => {
  const bomb = pngHeaderClaiming(100_000, 100_000)
  const before = process.memoryUsage().rss
  const error = await t.throwsAsync(resize({ input: bomb, width: 10 }))
  t.is(error.code, 'ERR_INPUT_TOO_LARGE')
  t.regex(error.message, /100000×100000/)
  t.true(process.memoryUsage().rss - before < 256 * 2 ** 20, 'no memory spent on the pixels')
  const small = await t.throwsAsync(resize({ input: inputs.jpeg, width: 10, limitInputPixels: 1000 }))
  t.is(small.code, 'ERR_INPUT_TOO_LARGE')
  t.truthy(await resize({ input: inputs.jpeg, width: 10, limitInputPixels: false }))
  // A tiny input asked for a huge output, or for a cover whose resize (before the crop) would
  // be huge, is refused before it takes the memory, whatever limitInputPixels says.
  const tiny = await photo(4, 400, 'png')
  for (const options of [
    { width: 65_535, height: 65_535, fit: 'fill' },
    { width: 60_000, height: 10, fit: 'cover' },
  ]) {
    const huge = await t.throwsAsync(resize({ input: tiny, ...options, limitInputPixels: false }))
    t.is(huge.code, 'ERR_INPUT_TOO_LARGE', JSON.stringify(options))
  }
  t.truthy(await resize({ input: inputs.jpeg, width: 10, limitInputPixels: 640 * 427 }))
})

test('truncated, bit-flipped and random bytes of every format: a result or ERR_TASK_FAILED, never a crash', async (t) => {
  const random = prng(42)
  const mutants = []
  for (const input of Object.values(inputs)) {
    for (let i = 0; i < 12; i++) mutants.push(input.subarray(0, Math.floor(random() * input.length)))
    for (let i = 0; i < 25; i++) {
      const copy = Buffer.from(input)
      const flips = 1 + Math.floor(random() * 20)
      for (let f = 0; f < flips; f++) copy[Math.floor(random() * copy.length)] ^= 1 << Math.floor(random() * 8)
      mutants.push(copy)
    }
    // The right magic bytes, then noise.
    for (let i = 0; i < 8; i++) {
      const noise = Buffer.from(Array.from({ length: 2000 }, () => Math.floor(random() * 256)))
      input.copy(noise, 0, 0, 16)
      mutants.push(noise)
    }
  }
  mutants.push(Buffer.alloc(0), Buffer.from('hello'), Buffer.from([0xff, 0xd8, 0xff]))
  let failed = 0
  for (const input of mutants) {
    try {
      const out = await resize({ input, width: 50, height: 40, format: 'png' })
      t.true(Buffer.isBuffer(out))
    } catch (error) {
      failed++
      t.is(error.code, 'ERR_TASK_FAILED', error.message)
      t.true(error.message.length > 10)
    }
  }
  t.true(failed > mutants.length / 4, `${failed} of ${mutants.length} were refused`)
})

test('an aborted resize rejects with ERR_ABORTED and the pool goes on', async (t) => {
  const controller = new AbortController()
  const big = await photo(1500, 1000, 'png')
  const pending = pool.run(
    { input: big, width: 1400, kernel: 'lanczos3' },
    { name: 'resize', signal: controller.signal },
  )
  controller.abort()
  const error = await t.throwsAsync(pending)
  t.is(error.code, 'ERR_ABORTED')
  t.truthy(await resize({ input: inputs.jpeg, width: 10 }))
})
