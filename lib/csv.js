'use strict'
// parseCsv's last step, on the main thread: Papa Parse's rows built from the flat parts the
// native side sends (src/tasks/csv.rs): a kind per cell, the numbers, and all texts in one
// string sliced per cell. Building values in a JS loop costs far less than JSON.parse of
// the same rows; object rows with every header field come from an object literal compiled
// once per header, so they all share one shape.

// The cell kinds of `papa::kind` in src/tasks/csv/papa.rs.
const TEXT = 0
const NUMBER = 1
const TRUE = 2
const FALSE = 3
const NULL = 4
const DATE = 5

/** `(next) => ({ "a": next(), "b": next(), … })` for these header names, in order. */
function compileRowLiteral(fields) {
  const entries = fields.map((field) => `${JSON.stringify(field)}: next()`)
  return new Function('next', `return { ${entries.join(', ')} }`)
}

function finishCsv({ rowLengths, kinds, numbers, texts, textEnds, fields, errorsAndMeta }) {
  const { errors, meta } = JSON.parse(errorsAndMeta)
  let cell = 0
  let number = 0
  let text = 0
  let textStart = 0
  const nextText = () => {
    const end = textEnds[text++]
    const value = texts.slice(textStart, end)
    textStart = end
    return value
  }
  const next = () => {
    switch (kinds[cell++]) {
      case TEXT:
        return nextText()
      case NUMBER:
        return numbers[number++]
      case TRUE:
        return true
      case FALSE:
        return false
      case NULL:
        return null
      case DATE:
        return new Date(nextText())
    }
  }

  const data = new Array(rowLengths.length)
  if (fields == null) {
    for (let r = 0; r < rowLengths.length; r++) {
      const row = []
      for (let j = rowLengths[r]; j > 0; j--) row.push(next())
      data[r] = row
    }
  } else {
    const literal = fields.length > 0 && !fields.includes('__proto__') ? compileRowLiteral(fields) : undefined
    for (let r = 0; r < rowLengths.length; r++) {
      const length = rowLengths[r]
      if (length === fields.length && literal !== undefined) {
        data[r] = literal(next)
        continue
      }
      // Short or long rows, as Papa Parse builds them: field by field, extras in a list.
      const row = {}
      const named = Math.min(length, fields.length)
      for (let j = 0; j < named; j++) row[fields[j]] = next()
      if (length > fields.length) {
        const extra = []
        for (let j = named; j < length; j++) extra.push(next())
        row.__parsed_extra = extra
      }
      data[r] = row
    }
  }
  return { data, errors, meta }
}

module.exports = { finishCsv }
