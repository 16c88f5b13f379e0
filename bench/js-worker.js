'use strict'
// The worker file of bench/js-tasks.js, run as it is by cisterna and Piscina (poolifier
// wraps the same functions in bench/poolifier-worker.js): an echo and recursive fib in JS.

function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2)
}

module.exports = (task) => task
module.exports.fib = fib
