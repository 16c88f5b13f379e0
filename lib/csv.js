'use strict'
// parseCsv's last step, on the main thread: Papa Parse's rows built from the flat chunks the
// native side sends (src/tasks/csv.rs), each as soon as it is typed: a kind per cell, the
// numbers, and all texts in one string sliced per cell. Building values in a JS loop costs
// far less than JSON.parse of the same rows. The loop is generated per header so that its
// cursors are plain locals (a closure's would live in a context object) and each complete
// row is one literal.

// The cell kinds of `cells::kind` in src/tasks/csv/cells.rs: 0 text, 1 number, 2 true,
// 3 false, 4 null, 5 date, 6 missing, 7 a text also kept in `sharedTexts`, 8 a text kept
// before, at the next of `places`. `CELL` reads the next cell, advancing the cursors.
const CELL = `((kind = kinds[cell++]) === 1 ? numbers[number++]
  : kind === 8 ? sharedTexts[places[place++]]
  : kind === 0 ? (end = textEnds[text++], value = texts.slice(start, end), start = end, value)
  : kind === 7 ? (end = textEnds[text++], value = texts.slice(start, end), start = end, sharedTexts.push(value), value)
  : kind === 2 ? true : kind === 3 ? false : kind === 4 ? null
  : kind === 5 ? (end = textEnds[text++], value = new Date(texts.slice(start, end)), start = end, value)
  : undefined)`

/** Compiles `(parts…) => built`, with the cursors as locals of the generated function. */
function compile(body) {
  return new Function(
    'data',
    'rowLengths',
    'kinds',
    'numbers',
    'texts',
    'textEnds',
    'places',
    'sharedTexts',
    'fields',
    'numericColumns',
    'rowCount',
    `
    'use strict'
    let cell = 0, number = 0, text = 0, place = 0, start = 0, kind, end, value
    ${body}`,
  )
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

/**
 * Rows at most this wide are built as one literal: past it the generated code (some 400
 * characters a cell) would cost more to compile than the literal saves, and V8 gives such
 * wide objects a dictionary anyway.
 */
const MAX_LITERAL_CELLS = 128

/**
 * Appends a chunk's rows to `data`. Rows of the usual length (the header's, or without one
 * the first row's) are one literal each, so that all of them share one shape and
 * allocation. `__proto__` sets the prototype in a literal (as in Papa Parse's assignment)
 * and a field named `__parsed_extra` collects a list, so their rows take the general path,
 * as do rows too wide for a literal.
 */
function compileRows(fields, usualLength) {
  const literal = () =>
    fields == null
      ? `[${Array(usualLength).fill(CELL).join(',\n')}]`
      : `{ ${fields.map((f) => `${JSON.stringify(f)}: ${CELL}`).join(',\n')} }`
  const usual =
    usualLength > 0 &&
    usualLength <= MAX_LITERAL_CELLS &&
    !(fields ?? []).some((field) => field === '__proto__' || field === '__parsed_extra')
      ? `if (length === ${usualLength}) { data.push(${literal()}); continue }`
      : ''
  const general =
    fields == null
      ? `const row = new Array(length)
      for (let j = 0; j < length; j++) row[j] = ${CELL}`
      : // Short or long rows, as Papa Parse builds them: field by field, values past the
        // header (and those of a field named __parsed_extra) pushed to __parsed_extra.
        `const row = {}
      for (let j = 0; j < length; j++) {
        const field = j < fields.length ? fields[j] : '__parsed_extra'
        const cellValue = ${CELL}
        if (field === '__parsed_extra') (row.__parsed_extra ??= []).push(cellValue)
        else row[field] = cellValue
      }`
  return compile(`
    for (let r = 0; r < rowLengths.length; r++) {
      const length = rowLengths[r]
      ${usual}
      ${general}
      data.push(row)
    }`)
}

/**
 * Builders by header and usual row length, kept across results (the oldest of 64 goes):
 * V8 optimises each once, rather than once per result.
 */
const builders = new Map()
const MAX_BUILDERS = 64

function rowsBuilder(fields, usualLength) {
  const key = JSON.stringify([fields, usualLength])
  let builder = builders.get(key)
  if (builder === undefined) {
    if (builders.size === MAX_BUILDERS) builders.delete(builders.keys().next().value)
    builder = compileRows(fields, usualLength)
    builders.set(key, builder)
  }
  return builder
}

/**
 * parseCsv's result, built as its rows arrive: `add` for each part sent ahead while later
 * rows are still being typed, `finish` for the task's output.
 */
class CsvResult {
  constructor() {
    this.data = []
    this.sharedTexts = []
    /** The header names, which come with the first chunk only (null without a header). */
    this.fields = undefined
    this.appendRows = undefined
  }

  add({ rowLengths, kinds, numbers, texts, textEnds, places, fields }) {
    if (this.appendRows === undefined) {
      this.fields = fields
      this.appendRows = rowsBuilder(fields, fields == null ? (rowLengths[0] ?? 0) : fields.length)
    }
    this.appendRows(this.data, rowLengths, kinds, numbers, texts, textEnds, places, this.sharedTexts, this.fields)
  }

  finish(output) {
    // output: 'json' is whole already.
    if (output.json !== undefined) return output.json
    const { errors, meta } = JSON.parse(output.errorsAndMeta)
    const { numericColumns, kinds, numbers, texts, textEnds, places, fields, rowCount } = output
    if (numericColumns !== undefined) {
      const columns = buildColumns(
        undefined,
        undefined,
        kinds,
        numbers,
        texts,
        textEnds,
        places,
        this.sharedTexts,
        fields,
        numericColumns,
        rowCount,
      )
      return { fields, columns, errors, meta }
    }
    this.add(output)
    return { data: this.data, errors, meta }
  }
}

module.exports = { CsvResult }
