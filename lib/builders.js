'use strict'
// The JS builders of task results, by the name a task's RESULT_BUILDER gives in Rust
// (src/tasks/): classes with `add(part)` for each part sent ahead and `finish(output)`.
const { CsvResult } = require('./csv.js')

module.exports = { csv: CsvResult }
