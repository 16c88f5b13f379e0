'use strict'
// poolifier runs a worker file only through its ThreadWorker: the same functions as
// bench/js-worker.js, registered by name.
const { ThreadWorker } = require('poolifier')
const echo = require('./js-worker.js')

module.exports = new ThreadWorker({ echo, fib: echo.fib })
