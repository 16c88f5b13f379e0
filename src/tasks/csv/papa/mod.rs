//! Papa Parse's semantics, on UTF-16 text as JavaScript sees it (every cursor and index
//! in its results counts UTF-16 units). Its quirks are the contract: fields are found by
//! searching for the next delimiter and newline, a quoted field closes only before a
//! delimiter or newline (spaces between allowed), text with no quote character at all is
//! split directly, the header row is renamed before empty lines are dropped.

use crate::pool::Ctx;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashMap;

mod guess;
mod scan;
mod search;
mod typing;

use guess::{guess_delimiter, guess_line_endings, is_empty_line};
use scan::{Scanned, Scanner, UNITS_PER_PART};
use search::text;
use typing::{TypedColumns, TypingPart, CELLS_PER_PART};

pub type Text = Vec<u16>;

const QUOTE: u16 = b'"' as u16;
const BOM: u16 = 0xfeff;
const RECORD_SEP: u16 = 30;
const UNIT_SEP: u16 = 31;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipEmptyLines {
    No,
    /// Lines that are one empty field.
    Yes,
    /// Lines whose fields are all whitespace.
    Greedy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DynamicTyping {
    Off,
    All,
    /// By header name, or by column number (as a string) without a header.
    Fields(HashMap<String, bool>),
}

/// How the rows are handed back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Papa Parse's `data`: arrays, or objects with a header.
    Rows,
    /// `{ fields, columns }`, numeric columns as Float64Array.
    Columns,
    /// Papa Parse's result as the JSON text `JSON.stringify` makes of it, in a Buffer.
    Json,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub layout: Layout,
    pub header: bool,
    pub dynamic_typing: DynamicTyping,
    pub skip_empty_lines: SkipEmptyLines,
    /// Empty: guess it.
    pub delimiter: Text,
    /// None: guess it.
    pub newline: Option<Text>,
    pub quote_char: u16,
    pub escape_char: u16,
    pub comments: Option<Text>,
    /// 0: no limit.
    pub preview: usize,
    pub fast_mode: Option<bool>,
    pub delimiters_to_guess: Option<Vec<Text>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            layout: Layout::Rows,
            header: false,
            dynamic_typing: DynamicTyping::Off,
            skip_empty_lines: SkipEmptyLines::No,
            delimiter: Vec::new(),
            newline: None,
            quote_char: QUOTE,
            escape_char: QUOTE,
            comments: None,
            preview: 0,
            fast_mode: None,
            delimiters_to_guess: None,
        }
    }
}

/// One error as Papa Parse reports it (and as JSON: `row` and `index` left out when
/// undefined).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParseError {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
}

/// A field as scanned: a slice of the input, or owned when quotes were unescaped.
pub type Cell<'a> = Cow<'a, [u16]>;

/// Rows stored flat: every cell back to back, and each row's length. One allocation for
/// all rows instead of one per row.
#[derive(Debug, Clone, PartialEq)]
pub struct Table<T> {
    pub cells: Vec<T>,
    pub lengths: Vec<usize>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            cells: Vec::new(),
            lengths: Vec::new(),
        }
    }
}

impl<T> Table<T> {
    pub fn len(&self) -> usize {
        self.lengths.len()
    }

    /// Ends the row begun after the last one ended.
    fn end_row(&mut self, row_start: usize) {
        self.lengths.push(self.cells.len() - row_start);
    }

    /// Each row as a slice, in order.
    pub fn rows(&self) -> impl Iterator<Item = &[T]> {
        let mut start = 0;
        self.lengths.iter().map(move |&length| {
            let row = &self.cells[start..start + length];
            start += length;
            row
        })
    }

    /// Keeps the first `rows` rows.
    fn truncate(&mut self, rows: usize) {
        let cells = self.lengths.iter().take(rows).sum();
        self.lengths.truncate(rows);
        self.cells.truncate(cells);
    }

    /// The rows for which `keep` is true, moved into a new table.
    fn retain_rows(self, mut keep: impl FnMut(&[T]) -> bool) -> Self {
        let mut kept = Table {
            cells: Vec::with_capacity(self.cells.len()),
            lengths: Vec::with_capacity(self.lengths.len()),
        };
        let mut cells = self.cells.into_iter();
        let mut row: Vec<T> = Vec::new();
        for length in self.lengths {
            row.extend(cells.by_ref().take(length));
            if keep(&row) {
                kept.lengths.push(length);
                kept.cells.append(&mut row);
            }
            row.clear();
        }
        kept
    }
}

/// A value after `dynamicTyping`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Text(Cell<'a>),
    Number(f64),
    Bool(bool),
    Null,
    /// An ISO date string, to become a `Date`.
    Date(Cell<'a>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Results<'a> {
    /// The rows, typed. With a header, a row's first `fields.len()` values are its named
    /// fields (fewer if it was short) and the rest go to `__parsed_extra`.
    pub data: Table<Value<'a>>,
    pub errors: Vec<ParseError>,
    pub delimiter: Text,
    pub linebreak: Text,
    pub truncated: bool,
    pub cursor: usize,
    pub renamed_headers: Option<Vec<(Text, Text)>>,
    pub fields: Option<Vec<Text>>,
}

/// `Papa.parse(input, options)` for a whole string (BOM already stripped), typed in parts
/// on free threads. Err is the message of an exception Papa Parse would throw.
pub fn parse<'a>(input: &'a [u16], options: &Options, ctx: &Ctx) -> Result<Results<'a>, String> {
    let mut parsing = Parsing::new(input, options, ctx)?;
    let data = parsing.rest_in_parts(ctx);
    Ok(Results {
        data,
        ..parsing.results
    })
}

/// A parse under way: the whole input is scanned, and its rows are typed a chunk at a time
/// by `next_rows`, so that the first rows can be on their way to JS while the rest are typed.
pub struct Parsing<'a, 'o> {
    /// The cells left, in the tables of the parts that scanned them (rows never span two).
    cells: Vec<std::vec::IntoIter<Cell<'a>>>,
    lengths: std::vec::IntoIter<usize>,
    rows_typed: usize,
    typed: TypedColumns<'o>,
    /// Papa Parse's result but its rows, which `next_rows` hands out: the errors grow as
    /// rows are typed.
    pub results: Results<'a>,
}

impl<'a, 'o> Parsing<'a, 'o> {
    pub fn new(input: &'a [u16], options: &'o Options, ctx: &Ctx) -> Result<Self, String> {
        Self::scanned_in_parts_of(input, options, ctx, UNITS_PER_PART)
    }

    fn scanned_in_parts_of(
        input: &'a [u16],
        options: &'o Options,
        ctx: &Ctx,
        units_per_part: usize,
    ) -> Result<Self, String> {
        let newline = match &options.newline {
            Some(newline) if !newline.is_empty() => newline.clone(),
            _ => guess_line_endings(input, options.quote_char),
        };
        let mut delimiter_error = false;
        let delimiter = if options.delimiter.is_empty() {
            guess_delimiter(input, &newline, options, ctx)?.unwrap_or_else(|| {
                delimiter_error = true;
                text(",")
            })
        } else {
            options.delimiter.clone()
        };
        let preview = if options.preview > 0 && options.header {
            options.preview + 1
        } else {
            options.preview
        };
        let scanner = Scanner::new(
            input,
            &delimiter,
            &newline,
            options.comments.as_deref(),
            preview,
            options.fast_mode,
            options.quote_char,
            options.escape_char,
            options.header,
        )?;
        let mut scanned = scanner.scan(ctx, units_per_part);
        let mut tables = scanned.tables();
        let Scanned {
            mut errors,
            cursor,
            truncated,
            renamed_headers,
            ..
        } = scanned;
        if delimiter_error {
            errors.push(ParseError {
                kind: "Delimiter",
                code: "UndetectableDelimiter",
                message: "Unable to auto-detect delimiting character; defaulted to ','".into(),
                row: None,
                index: None,
            });
        }
        if options.skip_empty_lines != SkipEmptyLines::No {
            tables = tables
                .into_iter()
                .map(|table| table.retain_rows(|row| !is_empty_line(row, options.skip_empty_lines)))
                .collect();
        }
        let mut lengths = Vec::with_capacity(tables.iter().map(Table::len).sum());
        for table in &tables {
            lengths.extend_from_slice(&table.lengths);
        }
        let mut lengths = lengths.into_iter();
        let mut cells: Vec<_> = tables
            .into_iter()
            .map(|table| table.cells.into_iter())
            .collect();
        let fields: Option<Vec<Text>> = if options.header {
            lengths.next().map(|first| {
                let header = cells.iter_mut().flatten().take(first);
                header.map(Cow::into_owned).collect()
            })
        } else {
            None
        };
        Ok(Parsing {
            cells,
            lengths,
            rows_typed: 0,
            typed: TypedColumns::new(&options.dynamic_typing, fields.clone()),
            results: Results {
                data: Table::default(),
                errors,
                delimiter: scanner.delim.clone(),
                linebreak: scanner.newline.clone(),
                truncated,
                cursor: cursor.unwrap_or(0),
                renamed_headers,
                fields: if options.header {
                    Some(fields.unwrap_or_default())
                } else {
                    None
                },
            },
        })
    }

    pub fn rows_left(&self) -> usize {
        self.lengths.len()
    }

    /// The next rows, typed, until they hold at least `min_cells` cells or none are left;
    /// a row whose length differs from the header's adds Papa Parse's FieldMismatch error.
    pub fn next_rows(&mut self, min_cells: usize) -> Table<Value<'a>> {
        let mut cells = 0;
        let count = self
            .lengths
            .as_slice()
            .iter()
            .take_while(|&&length| {
                let more = cells < min_cells;
                if more {
                    cells += length;
                }
                more
            })
            .count();
        let lengths: Vec<usize> = self.lengths.by_ref().take(count).collect();
        let mut rows = Table {
            cells: Vec::with_capacity(cells),
            lengths: Vec::new(),
        };
        self.typed.type_rows(
            &lengths,
            self.cells.iter_mut().flatten(),
            self.rows_typed,
            &mut self.results.errors,
            |value| rows.cells.push(value),
        );
        self.rows_typed += lengths.len();
        rows.lengths = lengths;
        rows
    }

    /// Every row left, typed in parts on the pool's free threads: the rows and errors of
    /// `next_rows(usize::MAX)`. Parts skipped once the task is cancelled leave rows out:
    /// check `ctx.cancelled()` after.
    pub fn rest_in_parts(&mut self, ctx: &Ctx) -> Table<Value<'a>> {
        self.rest_in_parts_of(ctx, CELLS_PER_PART)
    }

    fn rest_in_parts_of(&mut self, ctx: &Ctx, cells_per_part: usize) -> Table<Value<'a>> {
        let lengths: Vec<usize> = self.lengths.by_ref().collect();
        let total: usize = lengths.iter().sum();
        // Each part types its rows straight into its place in one vector.
        let mut typed: Vec<Value<'a>> = Vec::with_capacity(total);
        let mut slots = &mut typed.spare_capacity_mut()[..total];
        let mut parts = Vec::new();
        let mut rest = &lengths[..];
        let mut first_row = self.rows_typed;
        for scanned in self.cells.iter_mut() {
            let mut cells = scanned.as_mut_slice();
            while !cells.is_empty() {
                let (mut rows, mut part_cells) = (0, 0);
                while part_cells < cells.len() && (rows == 0 || part_cells < cells_per_part) {
                    part_cells += rest[rows];
                    rows += 1;
                }
                let (taken, left) = std::mem::take(&mut cells).split_at_mut(part_cells);
                cells = left;
                let (part_slots, more) = std::mem::take(&mut slots).split_at_mut(part_cells);
                slots = more;
                parts.push(TypingPart {
                    typed: self.typed.clone(),
                    lengths: &rest[..rows],
                    cells: taken,
                    first_row,
                    slots: part_slots,
                    errors: Vec::new(),
                    done: false,
                });
                rest = &rest[rows..];
                first_row += rows;
            }
        }
        assert!(
            rest.is_empty() && slots.is_empty(),
            "rows span no two scanned parts"
        );
        ctx.for_each(&mut parts, TypingPart::run);
        self.rows_typed = first_row;
        let done = parts.iter().all(|part| part.done);
        for part in &mut parts {
            self.results.errors.append(&mut part.errors);
            if !done && part.done {
                // SAFETY: a part done wrote every one of its slots (`TypingPart::run`), and
                // they are dropped once: the vector's length stays 0 when not all are done.
                unsafe { std::ptr::drop_in_place(part.slots as *mut _ as *mut [Value<'a>]) };
            }
        }
        drop(parts);
        if done {
            // SAFETY: every part wrote every one of its slots, which together are the
            // first `total` of the vector's capacity.
            unsafe { typed.set_len(total) };
        }
        Table {
            cells: typed,
            lengths,
        }
    }
}

#[cfg(test)]
mod tests;
