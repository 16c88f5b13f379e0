//! Typed rows as the flat arrays `lib/csv.js` builds JS values from: far cheaper on the
//! main thread than parsing them out of JSON text. Texts that repeat cross once.

use super::papa::{Results, Table, Text, Value};
use crate::pool::Ctx;
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::collections::hash_map::Entry;

/// Kinds of cells in `Cells::kinds`; `lib/csv.js` reads the same numbers.
pub mod kind {
    pub const TEXT: u8 = 0;
    pub const NUMBER: u8 = 1;
    pub const TRUE: u8 = 2;
    pub const FALSE: u8 = 3;
    pub const NULL: u8 = 4;
    pub const DATE: u8 = 5;
    /// A row too short to have this column (column layout only): `undefined`.
    pub const MISSING: u8 = 6;
    /// A text that JS also appends to the result's list of shared texts.
    pub const SHARED_FIRST: u8 = 7;
    /// A text sent before: its place in that list is the next of `Cells::places`.
    pub const SHARED: u8 = 8;
}

/// Cells come row by row (object rows: their header fields, then `__parsed_extra`), or
/// column after column; numbers, texts and places in the order of their cells.
#[derive(Debug, Default, PartialEq)]
pub struct Cells {
    pub row_lengths: Vec<u32>,
    pub kinds: Vec<u8>,
    pub numbers: Vec<f64>,
    /// All texts (and dates) sent whole, back to back; `text_ends[i]` is where the i-th ends.
    pub texts: Vec<u16>,
    pub text_ends: Vec<u32>,
    pub places: Vec<u32>,
}

/// Texts longer than this are not looked up: they rarely repeat, and hashing them costs.
const MAX_SHARED_LEN: usize = 32;
/// A column is judged on this many lookups at a time ...
const JUDGED_EVERY: u32 = 4096;
/// ... and stops being looked up when fewer than one in this many were found.
const MIN_FOUND_ONE_IN: u32 = 2;

/// Texts that repeat (names, categories, flags) cross to JS once, the first time as a text
/// JS keeps in a list and later as their place in that list: one JS string for all of them,
/// and less for the main thread to make and its garbage collector to move. A column whose
/// texts rarely repeat (ids, free text) stops being looked up, so it costs no hashing.
/// One per result, across all its parts. Dates are never shared: each is its own object.
#[derive(Default)]
pub struct SharedTexts<'a> {
    places: FxHashMap<&'a [u16], u32>,
    columns: Vec<ColumnLookups>,
}

#[derive(Default, Clone)]
struct ColumnLookups {
    looked_up: u32,
    found: u32,
    stopped: bool,
}

impl<'a> SharedTexts<'a> {
    /// The kind of this text in `column`, and its place in the list if it has one.
    fn share(&mut self, column: usize, text: &'a [u16]) -> (u8, Option<u32>) {
        if text.len() > MAX_SHARED_LEN {
            return (kind::TEXT, None);
        }
        if column >= self.columns.len() {
            self.columns.resize(column + 1, ColumnLookups::default());
        }
        let lookups = &mut self.columns[column];
        if lookups.stopped {
            return (kind::TEXT, None);
        }
        lookups.looked_up += 1;
        let next = self.places.len() as u32;
        let shared = match self.places.entry(text) {
            Entry::Occupied(place) => {
                lookups.found += 1;
                (kind::SHARED, Some(*place.get()))
            }
            Entry::Vacant(place) => {
                place.insert(next);
                (kind::SHARED_FIRST, None)
            }
        };
        if lookups.looked_up == JUDGED_EVERY {
            let stopped = lookups.found * MIN_FOUND_ONE_IN < lookups.looked_up;
            *lookups = ColumnLookups {
                stopped,
                ..ColumnLookups::default()
            };
        }
        shared
    }
}

impl Cells {
    fn push_missing(&mut self) {
        self.kinds.push(kind::MISSING);
    }

    fn push<'a>(&mut self, value: &Value<'a>, column: usize, shared: &mut SharedTexts<'a>) {
        let kind = match value {
            Value::Text(text) => {
                let (kind, place) = match text {
                    Cow::Borrowed(text) => shared.share(column, text),
                    // Unescaped quoted texts live only as long as their rows.
                    Cow::Owned(_) => (kind::TEXT, None),
                };
                match place {
                    Some(place) => self.places.push(place),
                    None => self.push_text(text),
                }
                kind
            }
            Value::Date(text) => {
                self.push_text(text);
                kind::DATE
            }
            Value::Number(n) => {
                self.numbers.push(*n);
                kind::NUMBER
            }
            Value::Bool(true) => kind::TRUE,
            Value::Bool(false) => kind::FALSE,
            Value::Null => kind::NULL,
        };
        self.kinds.push(kind);
    }

    /// Appends cells made apart, whose shared texts were numbered from 0: their places
    /// move past the `shared_before` texts shared ahead of them.
    fn append(&mut self, other: Cells, shared_before: u32) {
        let texts_before = self.texts.len() as u32;
        self.row_lengths.extend(other.row_lengths);
        self.kinds.extend(other.kinds);
        self.numbers.extend(other.numbers);
        self.texts.extend(other.texts);
        self.text_ends
            .extend(other.text_ends.iter().map(|end| end + texts_before));
        self.places
            .extend(other.places.iter().map(|place| place + shared_before));
    }

    fn push_text(&mut self, text: &[u16]) {
        self.texts.extend_from_slice(text);
        self.text_ends.push(self.texts.len() as u32);
    }
}

/// Rows, as cells row by row.
pub fn cells<'a>(rows: &Table<Value<'a>>, shared: &mut SharedTexts<'a>) -> Cells {
    let mut cells = Cells {
        row_lengths: rows.lengths.iter().map(|&l| l as u32).collect(),
        kinds: Vec::with_capacity(rows.cells.len()),
        ..Cells::default()
    };
    for row in rows.rows() {
        for (column, value) in row.iter().enumerate() {
            cells.push(value, column, shared);
        }
    }
    cells
}

/// The rows turned into columns (`output: 'columns'`): a column that holds a number in
/// every row is a plain `f64` vector, to cross as a Float64Array with no copy; the other
/// columns go through `cells`, column after column, `MISSING` where a row is too short.
/// Values past the header (`__parsed_extra`) have no column.
#[derive(Debug, Default, PartialEq)]
pub struct Columns {
    pub fields: Vec<Text>,
    /// Per column: its numbers, or None if its values are in `cells`.
    pub numeric: Vec<Option<Vec<f64>>>,
    /// Holds `row_lengths` = one entry per non-numeric column (its row count).
    pub cells: Cells,
}

/// One column, made on any thread: its numbers, or its cells with texts shared within it.
#[derive(Default)]
struct Column {
    numbers: Option<Vec<f64>>,
    cells: Cells,
    /// Texts the column shares (each `SHARED_FIRST` once).
    shared: u32,
}

/// The columns, each made as a part on the pool's free threads. Columns skipped once the
/// task is cancelled are left empty: check `ctx.cancelled()` after.
pub fn columns(results: &Results<'_>, ctx: &Ctx) -> Columns {
    let fields: Vec<Text> = match &results.fields {
        Some(fields) => fields.clone(),
        None => {
            let width = results.data.lengths.iter().copied().max().unwrap_or(0);
            (0..width)
                .map(|j| j.to_string().encode_utf16().collect())
                .collect()
        }
    };
    // A row's values that have a column: all of them, or those within the header.
    let rows: Vec<&[Value<'_>]> = results
        .data
        .rows()
        .map(|row| &row[..row.len().min(fields.len())])
        .collect();
    let mut parts: Vec<(usize, Column)> =
        (0..fields.len()).map(|j| (j, Column::default())).collect();
    ctx.for_each(&mut parts, |(j, column)| {
        let numbers: Option<Vec<f64>> = rows
            .iter()
            .map(|row| match row.get(*j) {
                Some(Value::Number(n)) => Some(*n),
                _ => None,
            })
            .collect();
        match numbers {
            Some(numbers) if !rows.is_empty() => column.numbers = Some(numbers),
            _ => {
                let mut shared = SharedTexts::default();
                for row in &rows {
                    match row.get(*j) {
                        Some(value) => column.cells.push(value, *j, &mut shared),
                        None => column.cells.push_missing(),
                    }
                }
                column.shared = shared.places.len() as u32;
            }
        }
    });
    let mut columns = Columns {
        fields,
        numeric: Vec::with_capacity(parts.len()),
        cells: Cells::default(),
    };
    let mut shared_before = 0;
    for (_, column) in parts {
        if column.numbers.is_none() {
            columns.cells.row_lengths.push(rows.len() as u32);
            columns.cells.append(column.cells, shared_before);
            shared_before += column.shared;
        }
        columns.numeric.push(column.numbers);
    }
    columns
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(s: &str) -> Text {
        s.encode_utf16().collect()
    }

    #[test]
    fn repeated_texts_cross_once_and_then_by_place() {
        let (a, b) = (units("alpha"), units("bravo"));
        let rows = Table {
            cells: vec![
                Value::Text(Cow::Borrowed(&a)),
                Value::Text(Cow::Borrowed(&b)),
                Value::Text(Cow::Borrowed(&b)),
                Value::Text(Cow::Borrowed(&a)),
            ],
            lengths: vec![1, 1, 1, 1],
        };
        let mut shared = SharedTexts::default();
        let cells = cells(&rows, &mut shared);
        let (first, again) = (kind::SHARED_FIRST, kind::SHARED);
        assert_eq!(cells.kinds, [first, first, again, again]);
        assert_eq!(cells.texts, units("alphabravo"));
        assert_eq!(cells.places, [1, 0]);
        // A later part of the same result refers to texts sent in an earlier one.
        let later = cells_of_one(&a, &mut shared);
        assert_eq!((later.kinds, later.places), (vec![again], vec![0]));
    }

    fn cells_of_one<'a>(text: &'a [u16], shared: &mut SharedTexts<'a>) -> Cells {
        let rows = Table {
            cells: vec![Value::Text(Cow::Borrowed(text))],
            lengths: vec![1],
        };
        cells(&rows, shared)
    }

    #[test]
    fn columns_made_apart_number_their_shared_texts_in_one_list() {
        let (a, b, x, y) = (units("a"), units("b"), units("x"), units("y"));
        let text = |t: &Text| Value::Text(Cow::Owned(t.clone()));
        let shared = |t| Value::Text(Cow::Borrowed(t));
        let results = Results {
            data: Table {
                cells: vec![
                    shared(&a),
                    shared(&x),
                    shared(&a),
                    shared(&y),
                    shared(&b),
                    shared(&x),
                    Value::Number(1.0),
                    text(&y),
                ],
                lengths: vec![2, 2, 2, 2],
            },
            errors: Vec::new(),
            delimiter: units(","),
            linebreak: units("\n"),
            truncated: false,
            cursor: 0,
            renamed_headers: None,
            fields: None,
        };
        let columns = columns(&results, &crate::pool::testing::never_cancelled());
        let (first, again, number, plain) =
            (kind::SHARED_FIRST, kind::SHARED, kind::NUMBER, kind::TEXT);
        assert_eq!(columns.numeric, [None, None]);
        assert_eq!(columns.cells.row_lengths, [4, 4]);
        assert_eq!(
            columns.cells.kinds,
            [first, again, first, number, first, first, again, plain]
        );
        // Shared texts in the order JS meets them: a, b (column 0), x, y (column 1).
        assert_eq!(columns.cells.texts, units("abxyy"));
        assert_eq!(columns.cells.text_ends, [1, 2, 3, 4, 5]);
        assert_eq!(columns.cells.places, [0, 2]);
    }

    #[test]
    fn a_column_of_unique_texts_stops_being_looked_up() {
        let ids: Vec<Text> = (0..2 * JUDGED_EVERY)
            .map(|i| units(&format!("id-{i}")))
            .collect();
        let mut shared = SharedTexts::default();
        let kinds: Vec<u8> = ids
            .iter()
            .flat_map(|id| cells_of_one(id, &mut shared).kinds)
            .collect();
        let judged = JUDGED_EVERY as usize;
        assert!(kinds[..judged].iter().all(|&k| k == kind::SHARED_FIRST));
        assert!(kinds[judged..].iter().all(|&k| k == kind::TEXT));
        assert_eq!(shared.places.len(), judged);
    }

    #[test]
    fn dates_long_texts_and_unescaped_texts_are_never_shared() {
        let date = units("2020-02-02");
        let long = units(&"x".repeat(MAX_SHARED_LEN + 1));
        let rows = Table {
            cells: vec![
                Value::Date(Cow::Borrowed(&date)),
                Value::Date(Cow::Borrowed(&date)),
                Value::Text(Cow::Borrowed(&long)),
                Value::Text(Cow::Borrowed(&long)),
                Value::Text(Cow::Owned(units("q\"q"))),
                Value::Text(Cow::Owned(units("q\"q"))),
            ],
            lengths: vec![6],
        };
        let cells = cells(&rows, &mut SharedTexts::default());
        let (date, text) = (kind::DATE, kind::TEXT);
        assert_eq!(cells.kinds, [date, date, text, text, text, text]);
        assert!(cells.places.is_empty());
    }
}
