'use strict'
// A worker file, as Piscina runs them: the demo (`npm start`) and the example server run its
// exports on the pool, beside the built-in tasks.

/** The classic CPU load, written in JS. */
function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2)
}

const escapeHtml = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])

/**
 * An invoice's totals and its HTML: the kind of CPU work a service has that is no library's
 * task. `lines` are `{ item, quantity, unitPrice }`, prices in cents.
 */
function invoice({ number, lines, taxRate = 0 }, { signal }) {
  if (!Array.isArray(lines)) {
    throw Object.assign(new TypeError('lines must be an array'), { code: 'ERR_INVALID_ARG' })
  }
  let subtotal = 0
  const rows = []
  for (const { item, quantity, unitPrice } of lines) {
    signal.throwIfAborted()
    if (!Number.isInteger(quantity) || !Number.isInteger(unitPrice)) {
      throw Object.assign(new TypeError(`${item}: quantity and unitPrice must be integers`), {
        code: 'ERR_INVALID_ARG',
      })
    }
    const amount = quantity * unitPrice
    subtotal += amount
    rows.push(`<tr><td>${escapeHtml(item)}</td><td>${quantity}</td><td>${(amount / 100).toFixed(2)}</td></tr>`)
  }
  const tax = Math.round(subtotal * taxRate)
  const html = `<h1>Invoice ${escapeHtml(number)}</h1><table>${rows.join('')}</table><p>Total ${((subtotal + tax) / 100).toFixed(2)}</p>`
  return { subtotal, tax, total: subtotal + tax, html }
}

module.exports = { fib, invoice }
