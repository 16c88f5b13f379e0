'use strict'
// The anchor of `npm run bench:queue`: BullMQ's sandboxed processor (a worker thread per
// job), doing the same work as users write it in JS: recursive fib, sharp file to file,
// node:crypto over the file's bytes.

const { createHash } = require('node:crypto')
const fs = require('node:fs')
const sharp = require('sharp')

function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2)
}

module.exports = async (job) => {
  const { data } = job
  switch (job.name) {
    case 'trivial':
      return data
    case 'fib':
      return fib(data.n)
    case 'hash':
      return createHash(data.algorithm).update(fs.readFileSync(data.data.path)).digest('hex')
    case 'resize': {
      const { info } = await sharp(data.input.path)
        .resize({ width: data.width, height: data.height, fit: data.fit })
        .toFile(data.output.path)
      return info
    }
    default:
      throw new Error(`unknown job ${job.name}`)
  }
}
