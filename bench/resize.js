'use strict'
// resize against sharp, side by side in one process, the same options and the same number of
// tasks in flight. Images are photo-like and made on the fly (fixtures/images.js).

const os = require('node:os')
const sharp = require('sharp')
const { Pool } = require('..')
const { photo } = require('../fixtures/images')
const { throughput, medianOf, report } = require('./harness.js')

const THREADS = os.availableParallelism()
const RUNS = Number(process.env.BENCH_RUNS ?? 5)
const OPS = 40

/** `targets` maps tasks in flight to the target ratio; the others are reported only. */
async function compare(name, input, options, sharpJob, targets) {
  const pool = new Pool({ maxThreads: THREADS, minThreads: THREADS })
  const ours = () => pool.run({ input, ...options }, 'resize')
  const theirs = sharpJob
  await throughput(ours, 8, 2)
  await throughput(theirs, 8, 2)
  for (const [inFlight, target] of targets) {
    report({
      name: `${name}, ${inFlight} in flight`,
      unit: 'ops/s',
      ours: await medianOf(RUNS, () => throughput(ours, OPS, inFlight)),
      anchor: await medianOf(RUNS, () => throughput(theirs, OPS, inFlight)),
      anchorName: 'sharp',
      higherIsBetter: true,
      target,
    })
  }
  await pool.close()
}

async function main() {
  console.log(`resize vs sharp ${sharp.versions.sharp}, ${THREADS} threads, median of ${RUNS} runs of ${OPS} ops`)
  const jpeg = await photo(2725, 2225, 'jpeg', { quality: 90 })
  await compare(
    'JPEG 2725×2225 → 720×588 lanczos3 q80',
    jpeg,
    { width: 720, height: 588, kernel: 'lanczos3', quality: 80 },
    () => sharp(jpeg).resize(720, 588, { kernel: 'lanczos3' }).jpeg({ quality: 80 }).toBuffer(),
    [
      [1, 1.0],
      [THREADS, 1.5],
    ],
  )
  const png = await photo(1920, 1080, 'png', { channels: 4, seed: 2 })
  await compare(
    'PNG+alpha 1920×1080 → 480 wide, PNG',
    png,
    { width: 480 },
    () => sharp(png).resize(480).png().toBuffer(),
    [[THREADS, undefined]],
  )
  const webp = await photo(1920, 1080, 'webp', { quality: 90, seed: 3 })
  await compare(
    'WebP 1920×1080 → 480 wide q80, WebP',
    webp,
    { width: 480, quality: 80 },
    () => sharp(webp).resize(480).webp({ quality: 80 }).toBuffer(),
    [[THREADS, undefined]],
  )
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
