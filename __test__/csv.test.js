'use strict'
// parseCsv against Papa Parse: the same input and options give the same { data, errors, meta }.
const test = require('ava')
const Papa = require('papaparse')
const { parseQuietly } = require('../fixtures/papa.js')
const { Pool } = require('..')
const { abortRuns } = require('./helpers.js')

let pool
test.before(() => {
  pool = new Pool(2)
})
test.after.always(() => pool.close())

const EDGE_CASES = [
  '',
  'a',
  'a,b,c',
  'a,b,c\n',
  'a,b,c\n\n',
  '\n',
  '\n\n',
  'a,b\n1,2\n3,4',
  'a,b\r\n1,2\r\n',
  'a,b\r1,2\r3,4',
  'a\r\nb\nc',
  '"a","b"\n"1","2"',
  '"a,b",c\n"x\ny",z',
  '"he said ""hi""",2',
  '"unterminated,1\n2,3',
  'a,"b"c,d',
  '"a" ,b\n"c"  \nd',
  '"a"x,"b"',
  'x,y\n"multi\r\nline",2',
  '# comment\na,b\n#another\n1,2',
  'a;b;c\n1;2;3',
  'a\tb\tc\n1\t2\t3',
  'a|b\n1|2',
  'one column\nonly',
  'a,b\n1\n2,3,4\n',
  ' , \n  ,  ',
  'a,b\n   \n1,2',
  '1,2.5,-3,1e3,.5,5.,0x10,1_000,Infinity,NaN',
  'true,TRUE,True,false,FALSE,null,,undefined',
  '9007199254740991,9007199254740992,-9007199254740992,-9007199254740991, 42 ,\u00a07\u00a0',
  '2024-01-02T03:04:05Z,2024-01-02T03:04:05.123+02:00,2024-01-02T03:04Z,2024-01-02,2024-13-45T25:61Z',
  'h,h,h_1,h\n1,2,3,4',
  '\ufeffbom,x\n1,2',
  'émoji 😀,ü\n"ß",\ud800',
  'a,b\n"c,d",e\n"f"',
  '"a"\n',
  '"""",x\n"a""b",y',
  'a,,b\n,,\n',
  'a,b,c\n1,2',
  'x\n"',
  '"',
  '""',
  ',',
  ',,\n,,',
]
const OPTION_SETS = [
  {},
  { header: true },
  { dynamicTyping: true },
  { header: true, dynamicTyping: true },
  { skipEmptyLines: true },
  { skipEmptyLines: 'greedy', header: true },
  { delimiter: ';' },
  { comments: '#' },
  { comments: true, header: true },
  { preview: 1 },
  { preview: 2, header: true },
  { newline: '\r\n' },
  { quoteChar: "'" },
  { escapeChar: '\\' },
  { header: true, dynamicTyping: { a: true, h: true } },
  { header: true, dynamicTyping: { a: 1, h: 'yes', h_1: true } },
  { dynamicTyping: { 0: true } },
  { fastMode: true },
  { delimitersToGuess: [';', '|'] },
]

const papa = parseQuietly

test('edge cases under every option set equal Papa Parse', async (t) => {
  for (const options of OPTION_SETS) {
    for (const input of EDGE_CASES) {
      const label = `${JSON.stringify(input)} with ${JSON.stringify(options)}`
      let expected
      try {
        expected = papa(input, { ...options })
      } catch {
        await t.throwsAsync(pool.run({ input, ...options }, 'parseCsv'), { code: 'ERR_INVALID_ARG' }, label)
        continue
      }
      t.deepEqual(await pool.run({ input, ...options }, 'parseCsv'), expected, label)
    }
  }
})

test('a string alone and a Buffer give what Papa Parse gives for the decoded text', async (t) => {
  for (const input of EDGE_CASES) {
    t.deepEqual(await pool.run(input, 'parseCsv'), papa(input), JSON.stringify(input))
    const bytes = Buffer.from(input, 'utf8')
    t.deepEqual(await pool.run(bytes, 'parseCsv'), papa(bytes.toString('utf8')), `Buffer of ${JSON.stringify(input)}`)
  }
  const invalidUtf8 = Buffer.from([0x61, 0x2c, 0xff, 0xfe, 0x0a, 0xc3, 0x28, 0x2c, 0x62])
  t.deepEqual(await pool.run(invalidUtf8, 'parseCsv'), papa(invalidUtf8.toString('utf8')))
})

/** The same numbers in [0, 1) on every run, from `seed`. */
function seededRandom(seed) {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed / 2 ** 31
  }
}

const GENERATED_CELLS = [
  'plain',
  '',
  ' spaced ',
  '42',
  '-1.5e3',
  'true',
  'null',
  'quote"inside',
  'comma,inside',
  'line\nbreak',
  'ünï',
  '2020-02-02T02:02Z',
  '  ',
]

/** A CSV of `rows` rows of about `columns` cells from GENERATED_CELLS, one in ten ragged. */
function generatedCsv(random, rows, columns, delimiter, newline, quoteAll) {
  const pick = (list) => list[Math.floor(random() * list.length)]
  const lines = []
  for (let r = 0; r < rows; r++) {
    const width = random() < 0.9 ? columns : 1 + Math.floor(random() * 8)
    lines.push(
      Array.from({ length: width }, () => {
        const cell = pick(GENERATED_CELLS)
        return quoteAll || /[",\n;\t|\r]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell
      }).join(delimiter),
    )
  }
  return lines.join(newline) + (random() < 0.5 ? newline : '')
}

test('generated tables equal Papa Parse', async (t) => {
  const random = seededRandom(7)
  const pick = (list) => list[Math.floor(random() * list.length)]
  for (let round = 0; round < 40; round++) {
    const columns = 1 + Math.floor(random() * 6)
    const rows = Math.floor(random() * 30)
    const input = generatedCsv(
      random,
      rows,
      columns,
      pick([',', ';', '\t', '|']),
      pick(['\n', '\r\n', '\r']),
      random() < 0.3,
    )
    const options = pick(OPTION_SETS)
    t.deepEqual(
      await pool.run({ input, ...options }, 'parseCsv'),
      papa(input, { ...options }),
      `${JSON.stringify(input)} with ${JSON.stringify(options)}`,
    )
  }
})

// Rows past the first 65 536 cells go to JS in parts while later ones are typed: their
// order, row numbers in errors and shared header must come out as one parse would give.
test('tables of many parts equal Papa Parse', async (t) => {
  const random = seededRandom(11)
  const generated = generatedCsv(random, 60_000, 5, ',', '\r\n', false)
  // Texts that repeat cross to JS once; a column of unique ones stops being looked up.
  const repeatsThenUnique = Array.from(
    { length: 30_000 },
    (_, i) => `id-${i < 10_000 ? i % 7 : i},cat-${i % 5},${'x'.repeat(i % 40)}`,
  ).join('\n')
  const cases = [
    {},
    { header: true, dynamicTyping: true },
    { header: true, skipEmptyLines: 'greedy' },
    { dynamicTyping: true, preview: 20_000 },
  ]
  for (const input of [generated, repeatsThenUnique]) {
    for (const options of cases) {
      const result = await pool.run({ input, ...options }, 'parseCsv')
      const expected = papa(input, { ...options })
      t.true(expected.data.length >= 20_000)
      t.deepEqual(result, expected, JSON.stringify(options))
    }
  }
})

// Past two million characters the text is decoded, scanned and typed in parts on the pool's
// free threads; a part is kept only where the scan before it ends, so quotes that span
// lines, and stray quotes that mislead the split, still give one parse's result.
test('inputs long enough to be parsed in parts equal Papa Parse', async (t) => {
  const random = seededRandom(13)
  const generated = generatedCsv(random, 120_000, 5, ',', '\r\n', false)
  t.true(generated.length > 4_000_000)
  // A stray quote in an unquoted field, every so often: parity from the start is wrong.
  const stray = generated.replace(/\r\nplain,/g, (match, at) => (at % 7 === 0 ? '\r\npl"ain,' : match))
  const columns = { header: true, dynamicTyping: true, output: 'columns' }
  for (const [input, options] of [
    [generated, {}],
    [generated, { header: true, dynamicTyping: true, skipEmptyLines: 'greedy' }],
    [Buffer.from(generated), { header: true }],
    [stray, { header: true, dynamicTyping: true }],
  ]) {
    const text = typeof input === 'string' ? input : input.toString()
    const expected = papa(text, { ...options })
    const result = await pool.run({ input, ...options }, 'parseCsv')
    // Compared as JSON text: a deep comparison of 120 000 rows takes ava minutes.
    const label = JSON.stringify(options)
    t.is(result.data.length, expected.data.length, label)
    t.is(JSON.stringify(result.errors), JSON.stringify(expected.errors), label)
    t.deepEqual(result.meta, expected.meta, label)
    t.is(JSON.stringify(result.data), JSON.stringify(expected.data), label)
  }
  const asColumns = await pool.run({ input: generated, ...columns }, 'parseCsv')
  const { data: rows, meta } = papa(generated, { header: true, dynamicTyping: true })
  t.deepEqual(asColumns.fields, meta.fields)
  asColumns.fields.forEach((field, j) => {
    const column = JSON.stringify(Array.from(asColumns.columns[j]))
    t.is(column, JSON.stringify(rows.map((row) => row[field])), field)
  })
  const asJson = await pool.run({ input: stray, header: true, output: 'json' }, 'parseCsv')
  t.is(asJson.toString(), JSON.stringify(papa(stray, { header: true })))
})

test('aborting a parse that is sending its rows rejects it, and the pool goes on', async (t) => {
  const random = seededRandom(5)
  const input = generatedCsv(random, 200_000, 5, ',', '\n', false)
  for (const delay of [0, 10, 25]) {
    const controller = new AbortController()
    const parse = pool.run(
      { input, header: true, dynamicTyping: true },
      { name: 'parseCsv', signal: controller.signal },
    )
    setTimeout(() => controller.abort(), delay)
    await t.throwsAsync(parse, { code: 'ERR_ABORTED' })
  }
  t.deepEqual(await pool.run('a,b\n1,2', 'parseCsv'), papa('a,b\n1,2'))
})

// Aborts a microtask after run, and on timers (see `abortRuns`): never part of a result.
test('aborting a parse in parts rejects it or gives the whole result; the pool goes on', async (t) => {
  const input = generatedCsv(seededRandom(17), 120_000, 5, ',', '\n', false)
  const options = { input, header: true, dynamicTyping: true, output: 'json' }
  const whole = await pool.run(options, 'parseCsv')
  await abortRuns(t, pool, options, 'parseCsv', [undefined, undefined, 5, 15, 40], (json) => whole.equals(json))
  t.deepEqual(await pool.run('a,b\n1,2', 'parseCsv'), papa('a,b\n1,2'))
})

test('options that take functions are ERR_INVALID_ARG, saying so', async (t) => {
  for (const option of ['transform', 'transformHeader', 'step', 'complete']) {
    const error = await t.throwsAsync(pool.run({ input: 'a,b', [option]: () => {} }, 'parseCsv'), {
      code: 'ERR_INVALID_ARG',
    })
    t.regex(error.message, new RegExp(option))
  }
  await t.throwsAsync(pool.run({ input: 'a', dynamicTyping: () => true }, 'parseCsv'), { code: 'ERR_INVALID_ARG' })
  await t.throwsAsync(pool.run(42, 'parseCsv'), { code: 'ERR_INVALID_ARG' })
  await t.throwsAsync(pool.run({ input: 5 }, 'parseCsv'), { code: 'ERR_INVALID_ARG' })
  await t.throwsAsync(pool.run({ input: 'a', preview: -1 }, 'parseCsv'), { code: 'ERR_INVALID_ARG' })
})

test('an options object Papa Parse has already used (it writes transform: false into it) works', async (t) => {
  const options = { header: true, dynamicTyping: true }
  const expected = papa('a,b\n1,x', options)
  t.is(options.transform, false)
  t.deepEqual(await pool.run({ input: 'a,b\n1,x', ...options }, 'parseCsv'), expected)
})

test('random bytes never crash and equal Papa Parse on the decoded text', async (t) => {
  const random = seededRandom(99)
  const alphabet = [
    0x2c, 0x22, 0x0a, 0x0d, 0x3b, 0x09, 0x20, 0x61, 0x31, 0xc3, 0xa9, 0xff, 0x00, 0x23, 0xef, 0xbb, 0xbf,
  ]
  for (let round = 0; round < 300; round++) {
    const length = Math.floor(random() * 60)
    const bytes = Buffer.from(
      Array.from({ length }, () =>
        random() < 0.8 ? alphabet[Math.floor(random() * alphabet.length)] : Math.floor(random() * 256),
      ),
    )
    const options = random() < 0.5 ? {} : { header: true, dynamicTyping: true, skipEmptyLines: 'greedy' }
    t.deepEqual(
      await pool.run({ input: bytes, ...options }, 'parseCsv'),
      papa(bytes.toString('utf8'), { ...options }),
      bytes.toString('hex'),
    )
  }
})

/** Papa Parse's rows turned into the columns `output: 'columns'` promises. */
/** What JSON.stringify makes of Papa Parse's result, or the error it throws. */
function papaJson(input, options) {
  try {
    return JSON.stringify(papa(input, { ...options }))
  } catch (error) {
    return error
  }
}

/** output: 'json' against JSON.stringify of Papa Parse's result, byte for byte. */
async function assertSameJson(t, input, options, label) {
  const expected = papaJson(input, options)
  const run = pool.run({ input, ...options, output: 'json' }, 'parseCsv')
  if (expected instanceof Error) {
    const code = expected instanceof TypeError && /Date/.test(expected.message) ? 'ERR_TASK_FAILED' : 'ERR_INVALID_ARG'
    await t.throwsAsync(run, { code }, label)
    return
  }
  const json = await run
  t.true(Buffer.isBuffer(json), label)
  t.is(json.toString('utf8'), Buffer.from(expected, 'utf8').toString('utf8'), label)
}

/** A date-like cell Papa Parse's pattern accepts, with any digits in each place. */
function isoDateCell(random) {
  const digits = (count, max = 9) =>
    Array.from({ length: count }, (_, i) => Math.floor(random() * ((i === 0 ? max : 9) + 1))).join('')
  const seconds =
    random() < 0.7 ? `:${digits(2, 5)}${random() < 0.5 ? `.${digits(1 + Math.floor(random() * 5))}` : ''}` : ''
  const zone = random() < 0.4 ? 'Z' : `${random() < 0.5 ? '+' : '-'}${digits(2, 2)}:${digits(2, 5)}`
  return `${digits(4)}-${digits(2, 1)}-${digits(2, 3)}T${digits(2, 2)}:${digits(2, 5)}${seconds}${zone}`
}

test("output: 'json' is JSON.stringify of Papa Parse's result, byte for byte", async (t) => {
  for (const options of OPTION_SETS) {
    for (const input of EDGE_CASES) {
      await assertSameJson(t, input, options, `${JSON.stringify(input)} with ${JSON.stringify(options)}`)
    }
  }
  const random = seededRandom(13)
  const dates = Array.from({ length: 3000 }, () => isoDateCell(random))
  await assertSameJson(t, `d\n${dates.join('\n')}`, { header: true, dynamicTyping: true }, 'generated dates')
  const keys = [
    'b,10,a,2,01,4294967294,4294967295,0,-1,1.5\n1,2,3,4,5,6,7,8,9,10,11,12',
    '__proto__,x\n1,2\nnull,3\n,4',
    '__parsed_extra,x\n1,2,3,4\n5',
    'x,__proto__\n1,2024-01-01T00:00Z',
    'constructor,toString,valueOf,hasOwnProperty,plain\n1,2,true,,2024-01-01T00:00Z',
    '\ud800,\udc00b,"\u0001\u001f"\n\ud83d,\ude00,\u2028\u2029',
    'n\n1e21\n1.5e-7\n-0\n0.1\n123456789012345680000\n-9007199254740991\n1e-7',
  ]
  for (const input of keys) {
    for (const options of [{ header: true }, { header: true, dynamicTyping: true }, { dynamicTyping: true }]) {
      const label = `${JSON.stringify(input)} with ${JSON.stringify(options)}`
      await assertSameJson(t, input, options, label)
      const rows = await pool.run({ input, ...options }, 'parseCsv')
      const expected = papa(input, { ...options })
      t.deepEqual(rows, expected, `rows of ${label}`)
      t.is(
        Object.getPrototypeOf(rows.data[1] ?? {}),
        Object.getPrototypeOf(expected.data[1] ?? {}),
        `prototype, ${label}`,
      )
    }
  }
  for (let round = 0; round < 40; round++) {
    const pick = (list) => list[Math.floor(random() * list.length)]
    const input = generatedCsv(random, Math.floor(random() * 300), 1 + Math.floor(random() * 6), ',', '\n', false)
    await assertSameJson(t, input, pick(OPTION_SETS), `generated ${round}`)
  }
})

function papaColumns(result, header) {
  const rows = result.data
  const fields = header
    ? result.meta.fields
    : Array.from({ length: Math.max(0, ...rows.map((row) => row.length)) }, (_, j) => String(j))
  const columns = fields.map((field, j) =>
    rows.map((row) => (header ? (Object.hasOwn(row, field) ? row[field] : undefined) : row[j])),
  )
  return { fields, columns }
}

test("output: 'columns' is Papa Parse's rows, column by column; all-number columns as Float64Array", async (t) => {
  const optionSets = [
    {},
    { header: true },
    { dynamicTyping: true },
    { header: true, dynamicTyping: true, skipEmptyLines: true },
  ]
  const inputs = [...EDGE_CASES, 'n,m\n1,2\n3,4\n5,6', '1,2\n3\n4,5,6']
  for (const options of optionSets) {
    for (const input of inputs) {
      const label = `${JSON.stringify(input)} with ${JSON.stringify(options)}`
      const papaResult = papa(input, { ...options })
      const expected = papaColumns(papaResult, Boolean(options.header))
      const ours = await pool.run({ input, ...options, output: 'columns' }, 'parseCsv')
      t.deepEqual(ours.fields, expected.fields, label)
      t.deepEqual(ours.errors, papaResult.errors, label)
      t.deepEqual(ours.meta, papaResult.meta, label)
      expected.columns.forEach((values, j) => {
        const numeric = values.length > 0 && values.every((v) => typeof v === 'number')
        t.is(ours.columns[j] instanceof Float64Array, numeric, `${label}, column ${j}`)
        t.deepEqual(Array.from(ours.columns[j]), values, `${label}, column ${j}`)
      })
    }
  }
  await t.throwsAsync(pool.run({ input: 'a', output: 'table' }, 'parseCsv'), { code: 'ERR_INVALID_ARG' })
})

/** Papa Parse's result and time, then ours on a pool of its own, for the same input and options. */
async function bothTimed(input, options) {
  let start = performance.now()
  const papa = Papa.parse(input, options)
  const papaMs = performance.now() - start
  const own = new Pool(1)
  await own.run(1, 'fib')
  start = performance.now()
  const ours = await own.run({ input, ...options }, 'parseCsv')
  const oursMs = performance.now() - start
  await own.close()
  return { papa, papaMs, ours, oursMs }
}

// Shapes that cost far more than their size when work is not linear in the input: each
// once made a pool thread or the main thread spend seconds to minutes (or fail) where Papa
// Parse took milliseconds. The bound is loose, to hold on a slow or busy machine.
const COSTLY_SHAPES = {
  'one row of a million columns': ['0,1,2,3,4,5,6,7,8,9,'.repeat(100_000), {}],
  'a header of 300 000 repeated names': [`${'a,'.repeat(300_000)}a\n${'1,'.repeat(300_000)}1`, { header: true }],
  '15 MB of empty quoted fields': ['"",'.repeat(5_000_000), {}],
  'two million empty lines': [`a,b\n${'\n'.repeat(2_000_000)}1,2`, {}],
  'one field of 20 million characters': [`a,${'z'.repeat(20_000_000)},c`, {}],
  'a quoted field of a million escaped lines': [`"${'x""y,\n'.repeat(1_000_000)}",2\n3,4`, {}],
}
for (const [shape, [input, options]] of Object.entries(COSTLY_SHAPES)) {
  test.serial(`${shape}: Papa Parse's result, in time linear in the input`, async (t) => {
    const { papa, papaMs, ours, oursMs } = await bothTimed(input, options)
    t.is(JSON.stringify(ours.data), JSON.stringify(papa.data))
    t.deepEqual(ours.errors, papa.errors)
    t.true(oursMs < 20 * papaMs + 2_000, `${oursMs.toFixed(0)} ms against Papa Parse's ${papaMs.toFixed(0)} ms`)
  })
}
