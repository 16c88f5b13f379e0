'use strict'
// parseCsv's last step, on the main thread: Papa Parse's rows built from the flat parts the
// native side sends (src/tasks/csv.rs): a kind per cell, the numbers, and all texts in one
// string sliced per cell. Building values in a JS loop costs far less than JSON.parse of the
// same rows. The loop is generated once per call so that its cursors are plain locals (a
// closure's would live in a context object) and, with a header, each complete row is one
// object literal, so all rows share one shape.

// The cell kinds of `papa::kind` in src/tasks/csv/papa.rs: 0 text, 1 number, 2 true,
// 3 false, 4 null, 5 date, 6 missing. `CELL` reads the next cell, advancing the cursors.
const CELL = `((kind = kinds[cell++]) === 1 ? numbers[number++]
  : kind === 0 ? (end = textEnds[text++], value = texts.slice(start, end), start = end, value)
  : kind === 2 ? true : kind === 3 ? false : kind === 4 ? null
  : kind === 5 ? (end = textEnds[text++], value = new Date(texts.slice(start, end)), start = end, value)
  : undefined)`

/** Compiles `(parts…) => built`, with the cursors as locals of the generated function. */
function compile(body) {
  return new Function('rowLengths', 'kinds', 'numbers', 'texts', 'textEnds', 'fields', 'numericColumns', 'rowCount', `
    'use strict'
    let cell = 0, number = 0, text = 0, start = 0, kind, end, value
    ${body}`)
}

// `output: 'columns'`: numeric columns arrive as Float64Arrays, as they are; the others are
// built from the cells, column after column.
const buildColumns = compile(`
  const columns = new Array(fields.length)
  for (let c = 0; c < fields.length; c++) {
    if (numericColumns[c] !== null) {
      columns[c] = numericColumns[c]
      continue
    }
    const column = new Array(rowCount)
    for (let r = 0; r < rowCount; r++) column[r] = ${CELL}
    columns[c] = column
  }
  return columns`)

function rowsSource(fields) {
  if (fields == null) {
    return `for (let r = 0; r < rows; r++) {
      const row = []
      for (let j = rowLengths[r]; j > 0; j--) row.push(${CELL})
      data[r] = row
    }`
  }
  // An object literal for complete rows; `__proto__` would set the prototype in a literal
  // (and in Papa Parse's assignment too), so those rows take the general path.
  const literal = fields.length > 0 && !fields.includes('__proto__')
    ? `if (length === ${fields.length}) { data[r] = { ${fields.map((f) => `${JSON.stringify(f)}: ${CELL}`).join(',\n')} }; continue }`
    : ''
  return `for (let r = 0; r < rows; r++) {
    const length = rowLengths[r]
    ${literal}
    // Short or long rows, as Papa Parse builds them: field by field, extras in a list.
    const row = {}
    const named = Math.min(length, fields.length)
    for (let j = 0; j < named; j++) row[fields[j]] = ${CELL}
    if (length > fields.length) {
      const extra = []
      for (let j = named; j < length; j++) extra.push(${CELL})
      row.__parsed_extra = extra
    }
    data[r] = row
  }`
}

function finishCsv({ rowLengths, numericColumns, rowCount, kinds, numbers, texts, textEnds, fields, errorsAndMeta }) {
  const { errors, meta } = JSON.parse(errorsAndMeta)
  if (numericColumns !== undefined) {
    const columns = buildColumns(undefined, kinds, numbers, texts, textEnds, fields, numericColumns, rowCount)
    return { fields, columns, errors, meta }
  }
  const buildRows = compile(`
    const rows = rowLengths.length
    const data = new Array(rows)
    ${rowsSource(fields)}
    return data`)
  return { data: buildRows(rowLengths, kinds, numbers, texts, textEnds, fields), errors, meta }
}

module.exports = { finishCsv }
