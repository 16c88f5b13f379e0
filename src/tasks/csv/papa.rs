//! Papa Parse's semantics, on UTF-16 text as JavaScript sees it (every cursor and index
//! in its results counts UTF-16 units). Its quirks are the contract: fields are found by
//! searching for the next delimiter and newline, a quoted field closes only before a
//! delimiter or newline (spaces between allowed), text with no quote character at all is
//! split directly, the header row is renamed before empty lines are dropped.

use crate::pool::Ctx;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::mem::MaybeUninit;

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

fn index_of(hay: &[u16], needle: &[u16], from: usize) -> Option<usize> {
    if from > hay.len() {
        return None;
    }
    match needle {
        [] => Some(from),
        [single] => find_unit(&hay[from..], *single).map(|i| i + from),
        _ => hay[from..]
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|i| i + from),
    }
}

/// The first `needle` in `hay`. Compares a block of units at a time without branching,
/// which LLVM turns into vector compares: the scanner spends most of its time here (a
/// search for an absent delimiter crosses the whole input, as in Papa Parse).
fn find_unit(hay: &[u16], needle: u16) -> Option<usize> {
    const BLOCK: usize = 32;
    let mut blocks = hay.chunks_exact(BLOCK);
    for (b, block) in blocks.by_ref().enumerate() {
        if block
            .iter()
            .fold(false, |hit, &unit| hit | (unit == needle))
        {
            return block
                .iter()
                .position(|&unit| unit == needle)
                .map(|i| b * BLOCK + i);
        }
    }
    let rest = blocks.remainder();
    rest.iter()
        .position(|&unit| unit == needle)
        .map(|i| hay.len() - rest.len() + i)
}

/// JavaScript's `split` with a string separator, as slices, lazily.
fn split_lazily<'a, 's>(
    text: &'a [u16],
    separator: &'s [u16],
) -> impl Iterator<Item = &'a [u16]> + 's
where
    'a: 's,
{
    let mut start = Some(0);
    std::iter::from_fn(move || {
        let from = start?;
        match index_of(text, separator, from) {
            Some(at) => {
                start = Some(at + separator.len());
                Some(&text[from..at])
            }
            None => {
                start = None;
                Some(&text[from..])
            }
        }
    })
}

/// JavaScript's `\s` (and `trim`): its WhiteSpace and LineTerminator code points.
pub fn is_js_space(c: u16) -> bool {
    matches!(
        c,
        0x09..=0x0d
            | 0x20
            | 0xa0
            | 0x1680
            | 0x2000..=0x200a
            | 0x2028
            | 0x2029
            | 0x202f
            | 0x205f
            | 0x3000
            | 0xfeff
    )
}

fn is_blank(text: &[u16]) -> bool {
    text.iter().all(|&c| is_js_space(c))
}

fn text(s: &str) -> Text {
    s.encode_utf16().collect()
}

/// The core scanner (Papa Parse's `Parser`), for one whole input.
struct Scanner<'a> {
    delim: Text,
    newline: Text,
    comments: Option<Text>,
    preview: usize,
    fast_mode: Option<bool>,
    quote: u16,
    escape: u16,
    header: bool,
    input: &'a [u16],
}

#[derive(Default)]
struct Scanned<'a> {
    /// The rows being scanned; the rows of parts scanned before them are in `earlier`.
    data: Table<Cell<'a>>,
    earlier: Vec<Table<Cell<'a>>>,
    errors: Vec<ParseError>,
    /// Where the last row ended; None before any did.
    cursor: Option<usize>,
    truncated: bool,
    renamed_headers: Option<Vec<(Text, Text)>>,
    /// Where a scan told to stop did, at the first row start at or past its stop; None
    /// when it ran to the end of the input.
    stopped_at: Option<usize>,
}

impl<'a> Scanned<'a> {
    /// Appends what a scan from where this one stopped found: its rows come after ours.
    fn append(&mut self, next: Scanned<'a>) {
        debug_assert!(next.earlier.is_empty());
        let rows_before = self.data.len() + self.earlier.iter().map(Table::len).sum::<usize>();
        self.errors
            .extend(next.errors.into_iter().map(|error| ParseError {
                row: error.row.map(|row| row + rows_before),
                ..error
            }));
        self.earlier
            .push(std::mem::replace(&mut self.data, next.data));
        self.cursor = next.cursor.or(self.cursor);
        self.truncated |= next.truncated;
        self.stopped_at = next.stopped_at;
    }

    /// The rows' tables in order.
    fn tables(&mut self) -> Vec<Table<Cell<'a>>> {
        let mut tables = std::mem::take(&mut self.earlier);
        tables.push(std::mem::take(&mut self.data));
        tables
    }
}

/// Input units per part when a long input is scanned in parts: a few milliseconds' work.
const UNITS_PER_PART: usize = 1 << 20;

/// A stretch of the input to scan on some thread: from `start`, a row start if the part
/// before ends there, to the first row start at or past `stop_at`.
struct ScanPart<'a> {
    start: usize,
    stop_at: usize,
    scanned: Option<Scanned<'a>>,
}

const BAD_DELIMITERS: [u16; 4] = [b'\r' as u16, b'\n' as u16, QUOTE, BOM];

fn is_bad(text: &[u16]) -> bool {
    matches!(text, [c] if BAD_DELIMITERS.contains(c))
}

impl<'a> Scanner<'a> {
    #[allow(clippy::too_many_arguments)]
    fn new(
        input: &'a [u16],
        delim: &[u16],
        newline: &[u16],
        comments: Option<&[u16]>,
        preview: usize,
        fast_mode: Option<bool>,
        quote: u16,
        escape: u16,
        header: bool,
    ) -> Result<Self, String> {
        let delim = if delim.is_empty() || is_bad(delim) {
            text(",")
        } else {
            delim.to_vec()
        };
        let comments = comments
            .filter(|c| !c.is_empty() && !is_bad(c))
            .map(<[u16]>::to_vec);
        if comments.as_deref() == Some(&delim[..]) {
            return Err("Comment character same as delimiter".into());
        }
        let newline = match newline {
            [0x0d] | [0x0a] | [0x0d, 0x0a] => newline.to_vec(),
            _ => vec![0x0a],
        };
        Ok(Scanner {
            delim,
            newline,
            comments,
            preview,
            fast_mode,
            quote,
            escape,
            header,
            input,
        })
    }

    /// Replaces each escape+quote pair by a quote, left to right.
    fn unescape(&self, field: &'a [u16]) -> Cell<'a> {
        if !field
            .windows(2)
            .any(|w| w[0] == self.escape && w[1] == self.quote)
        {
            return Cow::Borrowed(field);
        }
        let mut out = Vec::with_capacity(field.len());
        let mut i = 0;
        while i < field.len() {
            if field[i] == self.escape && field.get(i + 1) == Some(&self.quote) {
                out.push(self.quote);
                i += 2;
            } else {
                out.push(field[i]);
                i += 1;
            }
        }
        Cow::Owned(out)
    }

    /// The whole input, in parts of `units_per_part` when it is at least two parts long.
    fn scan(&self, ctx: &Ctx, units_per_part: usize) -> Scanned<'a> {
        let input = self.input;
        if input.is_empty() {
            return Scanned::default();
        }
        let fast = self.fast_mode == Some(true)
            || (self.fast_mode != Some(false) && !input.contains(&self.quote));
        let mut out = if self.preview > 0 || input.len() < 2 * units_per_part {
            self.scan_from(fast, 0, usize::MAX)
        } else {
            self.scan_in_parts(fast, ctx, units_per_part)
        };
        if self.header {
            let mut tables = out.earlier.iter_mut().chain([&mut out.data]);
            let renamed = tables
                .find(|table| table.len() > 0)
                .and_then(|table| rename_headers(&mut table.cells[..table.lengths[0]]));
            out.renamed_headers = renamed;
        }
        out
    }

    /// Scans from `start` (a row start) to the end, or to the first row start at or past
    /// `stop_at`.
    fn scan_from(&self, fast: bool, start: usize, stop_at: usize) -> Scanned<'a> {
        let mut out = Scanned::default();
        if fast {
            self.scan_fast(&mut out, start, stop_at);
        } else {
            self.scan_quoted(&mut out, start, stop_at);
        }
        out
    }

    /// The whole input, scanned in parts on the pool's free threads, with the result of
    /// one scan. Parts start after a newline outside quotes, as counted from the start;
    /// a part is kept only if the scan before it stopped exactly at its start, which makes
    /// it a row start of the whole scan whatever the quotes did. Otherwise the rest is
    /// scanned on from where that scan stopped. Parts skipped once the task is cancelled
    /// leave rows out: the caller checks `ctx.cancelled()`.
    fn scan_in_parts(&self, fast: bool, ctx: &Ctx, units_per_part: usize) -> Scanned<'a> {
        let starts = self.part_starts(fast, ctx, units_per_part);
        let mut parts: Vec<ScanPart<'a>> = starts
            .iter()
            .enumerate()
            .map(|(k, &start)| ScanPart {
                start,
                stop_at: starts.get(k + 1).copied().unwrap_or(usize::MAX),
                scanned: None,
            })
            .collect();
        ctx.for_each(&mut parts, |part| {
            part.scanned = Some(self.scan_from(fast, part.start, part.stop_at));
        });
        let mut parts = parts.into_iter();
        let Some(mut whole) = parts.next().and_then(|part| part.scanned) else {
            return Scanned::default();
        };
        for part in parts {
            match (whole.stopped_at, part.scanned) {
                (Some(at), Some(next)) if at == part.start => whole.append(next),
                (Some(at), Some(_)) => {
                    whole.append(self.scan_from(fast, at, usize::MAX));
                    break;
                }
                // Ran to the end, or cancelled.
                _ => break,
            }
        }
        whole
    }

    /// Where the parts after the first begin: after the first newline outside quotes
    /// past each `units_per_part` stretch, quotes counted (in parts) from the start.
    fn part_starts(&self, fast: bool, ctx: &Ctx, units_per_part: usize) -> Vec<usize> {
        let input = self.input;
        let len = input.len();
        let count = (len / units_per_part).max(1);
        let bounds: Vec<usize> = (0..=count).map(|k| k * len / count).collect();
        let mut stretches: Vec<(usize, usize, bool)> =
            bounds.windows(2).map(|w| (w[0], w[1], false)).collect();
        if !fast {
            ctx.for_each(&mut stretches, |(from, to, odd)| {
                let quotes = input[*from..*to].iter().filter(|&&u| u == self.quote);
                *odd = quotes.count() % 2 == 1;
            });
        }
        let mut starts = vec![0];
        let mut quoted = false;
        for k in 1..count {
            let (from, to, _) = stretches[k];
            // Quotes before this stretch: an odd count leaves it inside a quoted field.
            quoted ^= stretches[k - 1].2;
            let mut inside = quoted;
            let found = (from..to).find(|&at| {
                if !fast && input[at] == self.quote {
                    inside = !inside;
                }
                !inside && input[at..].starts_with(&self.newline)
            });
            if let Some(start) = found.map(|at| at + self.newline.len()) {
                if start < len && starts.last() < Some(&start) {
                    starts.push(start);
                }
            }
        }
        starts
    }

    fn scan_fast(&self, out: &mut Scanned<'a>, start: usize, stop_at: usize) {
        let input: &'a [u16] = self.input;
        let mut rows = split_lazily(&input[start..], &self.newline).peekable();
        let mut cursor = start;
        let mut i = 0;
        while let Some(row) = rows.next() {
            if cursor >= stop_at {
                out.stopped_at = Some(cursor);
                return;
            }
            cursor += row.len();
            if rows.peek().is_some() {
                cursor += self.newline.len();
            }
            if self.comments.as_ref().is_some_and(|c| row.starts_with(c)) {
                i += 1;
                continue;
            }
            let row_start = out.data.cells.len();
            out.data
                .cells
                .extend(split_lazily(row, &self.delim).map(Cow::Borrowed));
            out.data.end_row(row_start);
            out.cursor = Some(cursor);
            if self.preview > 0 && i >= self.preview {
                out.data.truncate(self.preview);
                out.truncated = true;
                return;
            }
            i += 1;
        }
    }

    fn scan_quoted(&self, out: &mut Scanned<'a>, start: usize, stop_at: usize) {
        let input: &'a [u16] = self.input;
        let len = input.len();
        let (delim, newline) = (&self.delim[..], &self.newline[..]);
        let mut cursor = start;
        // Where the row being scanned begins in `out.data.cells`.
        let mut row_start = 0usize;
        let mut next_delim = index_of(input, delim, cursor);
        let mut next_newline = index_of(input, newline, cursor);
        let at = |i: usize| input.get(i).copied();

        let extra_spaces = |quote_search: usize, until: Option<usize>| -> usize {
            match until {
                Some(until) if until > quote_search + 1 => {
                    let between = &input[quote_search + 1..until];
                    if is_blank(between) {
                        between.len()
                    } else {
                        0
                    }
                }
                _ => 0,
            }
        };

        macro_rules! save_row {
            ($new_cursor:expr) => {{
                cursor = $new_cursor;
                out.data.end_row(row_start);
                row_start = out.data.cells.len();
                out.cursor = Some(cursor);
                next_newline = index_of(input, newline, cursor);
            }};
        }

        loop {
            if cursor >= stop_at && out.data.cells.len() == row_start {
                out.stopped_at = Some(cursor);
                return;
            }
            if at(cursor) == Some(self.quote) {
                let mut quote_search = cursor;
                cursor += 1;
                loop {
                    let Some(found) = index_of(input, &[self.quote], quote_search + 1) else {
                        out.errors.push(ParseError {
                            kind: "Quotes",
                            code: "MissingQuotes",
                            message: "Quoted field unterminated".into(),
                            row: Some(out.data.len()),
                            index: Some(cursor),
                        });
                        return self.finish(out, row_start, Cow::Borrowed(&input[cursor..]));
                    };
                    quote_search = found;
                    if quote_search == len - 1 {
                        let value = self.unescape(&input[cursor..quote_search]);
                        return self.finish(out, row_start, value);
                    }
                    if self.quote == self.escape && at(quote_search + 1) == Some(self.escape) {
                        quote_search += 1;
                        continue;
                    }
                    if self.quote != self.escape
                        && quote_search != 0
                        && at(quote_search - 1) == Some(self.escape)
                    {
                        continue;
                    }
                    if next_delim.is_some_and(|d| d < quote_search + 1) {
                        next_delim = index_of(input, delim, quote_search + 1);
                    }
                    if next_newline.is_some_and(|n| n < quote_search + 1) {
                        next_newline = index_of(input, newline, quote_search + 1);
                    }
                    let check_up_to = match (next_newline, next_delim) {
                        (None, d) => d,
                        (Some(n), Some(d)) => Some(n.min(d)),
                        // Math.min(-1, n) is -1 in Papa Parse: no spaces are skipped.
                        (Some(_), None) => None,
                    };
                    let spaces = extra_spaces(quote_search, check_up_to);
                    let after = quote_search + 1 + spaces;
                    if input.get(after..after + delim.len()) == Some(delim) {
                        out.data
                            .cells
                            .push(self.unescape(&input[cursor..quote_search]));
                        cursor = after + delim.len();
                        if next_delim.is_some_and(|d| d < cursor) {
                            next_delim = index_of(input, delim, cursor);
                        }
                        if next_newline.is_some_and(|n| n < cursor) {
                            next_newline = index_of(input, newline, cursor);
                        }
                        break;
                    }
                    let spaces = extra_spaces(quote_search, next_newline);
                    let after = quote_search + 1 + spaces;
                    if input.get(after..(after + newline.len()).min(len)) == Some(newline) {
                        out.data
                            .cells
                            .push(self.unescape(&input[cursor..quote_search]));
                        save_row!(after + newline.len());
                        if next_delim.is_some_and(|d| d < cursor) {
                            next_delim = index_of(input, delim, cursor);
                        }
                        if self.preview > 0 && out.data.len() >= self.preview {
                            out.truncated = true;
                            return;
                        }
                        break;
                    }
                    out.errors.push(ParseError {
                        kind: "Quotes",
                        code: "InvalidQuotes",
                        message: "Trailing quote on quoted field is malformed".into(),
                        row: Some(out.data.len()),
                        index: Some(cursor),
                    });
                    quote_search += 1;
                }
                continue;
            }

            if out.data.cells.len() == row_start && self.is_comment_at(cursor) {
                let Some(n) = next_newline else { return };
                cursor = n + newline.len();
                next_newline = index_of(input, newline, cursor);
                if next_delim.is_some_and(|d| d < cursor) {
                    next_delim = index_of(input, delim, cursor);
                }
                continue;
            }

            if let Some(d) = next_delim.filter(|&d| next_newline.is_none_or(|n| d < n)) {
                out.data.cells.push(Cow::Borrowed(&input[cursor..d]));
                cursor = d + delim.len();
                next_delim = index_of(input, delim, cursor);
                continue;
            }

            if let Some(n) = next_newline {
                out.data.cells.push(Cow::Borrowed(&input[cursor..n]));
                save_row!(n + newline.len());
                if self.preview > 0 && out.data.len() >= self.preview {
                    out.truncated = true;
                    return;
                }
                continue;
            }
            break;
        }
        self.finish(out, row_start, Cow::Borrowed(&input[cursor.min(len)..]))
    }

    /// A comment starts at `at` (Papa Parse: `input.substring(at, at + len) === comments`).
    fn is_comment_at(&self, at: usize) -> bool {
        self.comments
            .as_ref()
            .is_some_and(|c| self.input.get(at..).is_some_and(|rest| rest.starts_with(c)))
    }

    /// The last field, the last row, and the cursor at the end.
    fn finish(&self, out: &mut Scanned<'a>, row_start: usize, value: Cell<'a>) {
        out.data.cells.push(value);
        out.data.end_row(row_start);
        out.cursor = Some(self.input.len());
    }
}

/// Renames repeated header names `name_1`, `name_2`, … (skipping names already taken),
/// after stripping a BOM; returns new name → original, or None if nothing was renamed.
fn rename_headers(row: &mut [Cell<'_>]) -> Option<Vec<(Text, Text)>> {
    let mut used: HashSet<Text> = row.iter().map(|c| c.to_vec()).collect();
    let mut counts: HashMap<Text, usize> = HashMap::new();
    let mut renamed = Vec::new();
    for field in row.iter_mut() {
        let header = field.strip_prefix(&[BOM]).unwrap_or(field).to_vec();
        match counts.get(&header).copied() {
            None | Some(0) => {
                counts.insert(header.clone(), 1);
                *field = Cow::Owned(header.clone());
            }
            Some(mut suffix) => {
                let new = loop {
                    let mut candidate = header.clone();
                    candidate.extend(text(&format!("_{suffix}")));
                    suffix += 1;
                    if !used.contains(&candidate) {
                        break candidate;
                    }
                };
                used.insert(new.clone());
                *field = Cow::Owned(new.clone());
                *counts.get_mut(&header).expect("counted above") += 1;
                renamed.push((new, header.clone()));
            }
        }
        used.insert(header);
    }
    (!renamed.is_empty()).then_some(renamed)
}

/// `guessLineEndings`: looks at the first MiB with quoted stretches removed.
fn guess_line_endings(input: &[u16], quote: u16) -> Text {
    let head = &input[..input.len().min(1 << 20)];
    let mut unquoted = Vec::with_capacity(head.len());
    let mut i = 0;
    loop {
        let Some(open) = index_of(head, &[quote], i) else {
            unquoted.extend_from_slice(&head[i..]);
            break;
        };
        let Some(close) = index_of(head, &[quote], open + 1) else {
            unquoted.extend_from_slice(&head[i..]);
            break;
        };
        unquoted.extend_from_slice(&head[i..open]);
        i = close + 1;
    }
    let r: Vec<_> = split_lazily(&unquoted, &[0x0d]).collect();
    let n: Vec<_> = split_lazily(&unquoted, &[0x0a]).collect();
    let n_appears_first = n.len() > 1 && n[0].len() < r[0].len();
    if r.len() == 1 || n_appears_first {
        return vec![0x0a];
    }
    let with_n = r.iter().filter(|part| part.first() == Some(&0x0a)).count();
    if with_n as f64 >= r.len() as f64 / 2.0 {
        vec![0x0d, 0x0a]
    } else {
        vec![0x0d]
    }
}

fn is_empty_line(row: &[Cell<'_>], skip: SkipEmptyLines) -> bool {
    match skip {
        SkipEmptyLines::Greedy => row.iter().all(|f| is_blank(f)),
        _ => row.len() == 1 && row[0].is_empty(),
    }
}

/// `guessDelimiter`: the candidate whose first ten rows have the most even field counts
/// (more fields breaking ties), if it averages about two fields or more.
fn guess_delimiter(
    input: &[u16],
    newline: &[u16],
    options: &Options,
    ctx: &Ctx,
) -> Result<Option<Text>, String> {
    let candidates = options.delimiters_to_guess.clone().unwrap_or_else(|| {
        vec![
            text(","),
            text("\t"),
            text("|"),
            text(";"),
            vec![RECORD_SEP],
            vec![UNIT_SEP],
        ]
    });
    let mut best: Option<(Text, f64, f64)> = None; // delimiter, delta, average field count
    for delim in candidates {
        let preview = Scanner::new(
            input,
            &delim,
            newline,
            options.comments.as_deref(),
            10,
            None,
            QUOTE,
            QUOTE,
            false,
        )?
        .scan(ctx, UNITS_PER_PART);
        let (mut delta, mut total, mut empty_lines) = (0usize, 0usize, 0usize);
        let mut previous: Option<usize> = None;
        for row in preview.data.rows() {
            if options.skip_empty_lines != SkipEmptyLines::No
                && is_empty_line(row, options.skip_empty_lines)
            {
                empty_lines += 1;
                continue;
            }
            let count = row.len();
            total += count;
            match previous {
                None => previous = Some(count),
                Some(before) if count > 0 => {
                    delta += count.abs_diff(before);
                    previous = Some(count);
                }
                Some(_) => {}
            }
        }
        let average = if preview.data.len() == 0 {
            0.0
        } else {
            total as f64 / (preview.data.len() - empty_lines) as f64
        };
        let delta = delta as f64;
        let better = match &best {
            None => true,
            Some((_, best_delta, best_average)) => {
                delta < *best_delta || (delta == *best_delta && average > *best_average)
            }
        };
        if average > 1.99 && better {
            best = Some((delim, delta, average));
        }
    }
    Ok(best.map(|(delim, _, _)| delim))
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

/// Cells typed per part when the rows are typed in parts: about a millisecond's work.
const CELLS_PER_PART: usize = 1 << 16;

/// Rows to type on some thread, into their place in the typed rows.
struct TypingPart<'p, 'a, 'o> {
    typed: TypedColumns<'o>,
    lengths: &'p [usize],
    /// Taken (left empty) as they are typed.
    cells: &'p mut [Cell<'a>],
    first_row: usize,
    /// One per cell, written in order.
    slots: &'p mut [MaybeUninit<Value<'a>>],
    errors: Vec<ParseError>,
    /// Every slot is written.
    done: bool,
}

impl TypingPart<'_, '_, '_> {
    fn run(&mut self) {
        let cells = self.cells.iter_mut().map(std::mem::take);
        let mut slots = self.slots.iter_mut();
        self.typed.type_rows(
            self.lengths,
            cells,
            self.first_row,
            &mut self.errors,
            |value| {
                slots.next().expect("a slot per cell").write(value);
            },
        );
        assert!(slots.next().is_none(), "a cell per slot");
        self.done = true;
    }
}

/// The properties a JS `true` has, own and inherited.
const PROPERTIES_OF_TRUE: [&str; 12] = [
    "constructor",
    "toString",
    "valueOf",
    "__proto__",
    "__defineGetter__",
    "__defineSetter__",
    "__lookupGetter__",
    "__lookupSetter__",
    "hasOwnProperty",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "toLocaleString",
];

/// Which columns `dynamicTyping` converts, decided once per column: by header name, or
/// by column number without a header; `__parsed_extra` by that name.
#[derive(Clone)]
struct TypedColumns<'o> {
    config: &'o DynamicTyping,
    names: Option<Vec<Text>>,
    decided: Vec<bool>,
    extra: bool,
}

impl<'o> TypedColumns<'o> {
    fn new(config: &'o DynamicTyping, names: Option<Vec<Text>>) -> Self {
        let extra = Self::decide(config, "__parsed_extra");
        TypedColumns {
            config,
            names,
            decided: Vec::new(),
            extra,
        }
    }

    /// Papa Parse's `(dynamicTyping[field] || dynamicTyping) === true`: with `true`, a field
    /// named like a property of `true` (Boolean.prototype's and Object.prototype's) finds
    /// that property, so it is not typed; with a map, only a value of exactly `true` counts.
    fn decide(config: &DynamicTyping, field: &str) -> bool {
        match config {
            DynamicTyping::Off => false,
            DynamicTyping::All => !PROPERTIES_OF_TRUE.contains(&field),
            DynamicTyping::Fields(map) => map.get(field).copied().unwrap_or(false),
        }
    }

    fn applies(&mut self, column: usize) -> bool {
        while self.decided.len() <= column {
            let j = self.decided.len();
            let name = match &self.names {
                Some(names) => String::from_utf16_lossy(&names[j]),
                None => j.to_string(),
            };
            self.decided.push(Self::decide(self.config, &name));
        }
        self.decided[column]
    }

    /// Types the rows of these `lengths` from `cells`, the first being row `first_row`; a
    /// row whose length differs from the header's adds Papa Parse's FieldMismatch error.
    fn type_rows<'a>(
        &mut self,
        lengths: &[usize],
        mut cells: impl Iterator<Item = Cell<'a>>,
        first_row: usize,
        errors: &mut Vec<ParseError>,
        mut put: impl FnMut(Value<'a>),
    ) {
        let header = self.names.as_ref().map_or(0, Vec::len);
        for (row, &length) in lengths.iter().enumerate() {
            if self.names.is_some() && length != header {
                let (code, which) = if length > header {
                    ("TooManyFields", "Too many")
                } else {
                    ("TooFewFields", "Too few")
                };
                errors.push(ParseError {
                    kind: "FieldMismatch",
                    code,
                    message: format!(
                        "{which} fields: expected {header} fields but parsed {length}"
                    ),
                    row: Some(first_row + row),
                    index: None,
                });
            }
            let named = if self.names.is_some() {
                header.min(length)
            } else {
                length
            };
            for (j, cell) in cells.by_ref().take(length).enumerate() {
                put(if j < named {
                    self.apply(j, cell)
                } else {
                    self.apply_extra(cell)
                });
            }
        }
    }

    fn apply<'a>(&mut self, column: usize, cell: Cell<'a>) -> Value<'a> {
        if self.applies(column) {
            dynamic_value(cell)
        } else {
            Value::Text(cell)
        }
    }

    fn apply_extra<'a>(&self, cell: Cell<'a>) -> Value<'a> {
        if self.extra {
            dynamic_value(cell)
        } else {
            Value::Text(cell)
        }
    }
}

/// `cell` equals the ASCII string `ascii`.
fn is(cell: &[u16], ascii: &str) -> bool {
    cell.len() == ascii.len()
        && cell
            .iter()
            .zip(ascii.bytes())
            .all(|(&c, b)| c == u16::from(b))
}

/// Papa Parse's `parseDynamic`: booleans, floats within ±2⁵³, ISO dates, and null for "".
pub fn dynamic_value(value: Cell<'_>) -> Value<'_> {
    match &value[..] {
        [] => Value::Null,
        v if is(v, "true") || is(v, "TRUE") => Value::Bool(true),
        v if is(v, "false") || is(v, "FALSE") => Value::Bool(false),
        v => match float(v) {
            Some(number) => Value::Number(number),
            None if is_iso_date(v) => Value::Date(value),
            None => Value::Text(value),
        },
    }
}

const MAX_FLOAT: f64 = 9_007_199_254_740_992.0; // 2^53

/// `/^\s*-?(\d+\.?|\.\d+|\d+\.\d+)([eE][-+]?\d+)?\s*$/`, then parseFloat, strictly
/// within ±2⁵³.
fn float(value: &[u16]) -> Option<f64> {
    let start = value.iter().position(|&c| !is_js_space(c))?;
    let end = value.iter().rposition(|&c| !is_js_space(c))? + 1;
    let body = &value[start..end];
    let digit = |c: u16| (b'0' as u16..=b'9' as u16).contains(&c);
    let mut i = usize::from(body.first() == Some(&(b'-' as u16)));
    let int_digits = body[i..].iter().take_while(|&&c| digit(c)).count();
    i += int_digits;
    let mut frac_digits = 0;
    if body.get(i) == Some(&(b'.' as u16)) {
        i += 1;
        frac_digits = body[i..].iter().take_while(|&&c| digit(c)).count();
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if matches!(body.get(i), Some(&c) if c == b'e' as u16 || c == b'E' as u16) {
        let mut j = i + 1;
        if matches!(body.get(j), Some(&c) if c == b'+' as u16 || c == b'-' as u16) {
            j += 1;
        }
        let exp_digits = body[j.min(body.len())..]
            .iter()
            .take_while(|&&c| digit(c))
            .count();
        if exp_digits == 0 {
            return None;
        }
        i = j + exp_digits;
    }
    if i != body.len() {
        return None;
    }
    // The pattern admits only ASCII, so the units are the bytes.
    let number: f64 = as_ascii(body, |ascii| std::str::from_utf8(ascii).ok()?.parse().ok())?;
    (number > -MAX_FLOAT && number < MAX_FLOAT).then_some(number)
}

/// `units` (all ASCII) as bytes for `f`: on the stack when short, as nearly every number and
/// date is.
fn as_ascii<R>(units: &[u16], f: impl FnOnce(&[u8]) -> R) -> R {
    let mut short = [0u8; 64];
    if units.len() <= short.len() {
        for (byte, &unit) in short.iter_mut().zip(units) {
            *byte = unit as u8;
        }
        f(&short[..units.len()])
    } else {
        f(&units.iter().map(|&unit| unit as u8).collect::<Vec<_>>())
    }
}

/// Papa Parse's ISO_DATE: `YYYY-MM-DDTHH:mm[:ss[.fff…]]` then `Z` or `±HH:mm`, digits range-checked
/// only as its regex does (`[01]\d`, `[0-3]\d`, `[0-2]\d`, `[0-5]\d`); seconds are required
/// for a fraction.
fn is_iso_date(value: &[u16]) -> bool {
    // Every unit the pattern admits is ASCII, and it is at least 17 long.
    if value.len() < 17 || value.iter().any(|&u| u > 0x7f) {
        return false;
    }
    as_ascii(value, iso_date_bytes)
}

/// `is_iso_date` on the bytes of an ASCII string.
fn iso_date_bytes(b: &[u8]) -> bool {
    let digit = |i: usize, max: u8| b.get(i).is_some_and(|c| (b'0'..=max).contains(c));
    let d = |i: usize| digit(i, b'9');
    let date = d(0)
        && d(1)
        && d(2)
        && d(3)
        && b.get(4) == Some(&b'-')
        && digit(5, b'1')
        && d(6)
        && b.get(7) == Some(&b'-')
        && digit(8, b'3')
        && d(9)
        && b.get(10) == Some(&b'T')
        && digit(11, b'2')
        && d(12)
        && b.get(13) == Some(&b':')
        && digit(14, b'5')
        && d(15);
    if !date {
        return false;
    }
    let mut i = 16;
    if b.get(i) == Some(&b':') && digit(i + 1, b'5') && d(i + 2) {
        i += 3;
        if b.get(i) == Some(&b'.') {
            let fraction = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if fraction == 0 {
                return false;
            }
            i += 1 + fraction;
        }
    }
    match b.get(i) {
        Some(b'Z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            i + 6 == b.len()
                && digit(i + 1, b'2')
                && d(i + 2)
                && b[i + 3] == b':'
                && digit(i + 4, b'5')
                && d(i + 5)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::testing::never_cancelled;

    fn strings(row: &[Value]) -> Vec<String> {
        row.iter()
            .map(|v| match v {
                Value::Text(t) => String::from_utf16_lossy(t),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn numbers_follow_papa_parse_s_pattern_and_range() {
        for (input, expected) in [
            ("1", Some(1.0)),
            (" -2.5e3 ", Some(-2500.0)),
            (".5", Some(0.5)),
            ("5.", Some(5.0)),
            ("1.e2", Some(100.0)),
        ] {
            assert_eq!(float(&text(input)), expected, "{input}");
        }
        for input in [
            "",
            "-",
            ".",
            "1e",
            "0x10",
            "1_0",
            "Infinity",
            "NaN",
            "1 2",
            "9007199254740992",
            "--1",
        ] {
            assert_eq!(float(&text(input)), None, "{input}");
        }
        assert_eq!(
            float(&text("9007199254740991")),
            Some(9_007_199_254_740_991.0)
        );
    }

    #[test]
    fn iso_dates_as_papa_parse_s_regex_reads_them() {
        for date in [
            "2024-01-02T03:04Z",
            "2024-01-02T03:04:05Z",
            "2024-01-02T03:04:05.1+02:00",
            "2024-19-39T29:59-23:59",
        ] {
            assert!(is_iso_date(&text(date)), "{date}");
        }
        for not in [
            "2024-01-02",
            "2024-01-02T03:04",
            "2024-01-02T03:04:05.Z",
            "2024-01-02 03:04Z",
            "2024-01-02T03:04:05+0200",
        ] {
            assert!(!is_iso_date(&text(not)), "{not}");
        }
    }

    #[test]
    fn line_endings_are_guessed_outside_quotes() {
        assert_eq!(
            guess_line_endings(&text("a\r\nb\r\nc"), QUOTE),
            text("\r\n")
        );
        assert_eq!(guess_line_endings(&text("a\rb\rc"), QUOTE), text("\r"));
        assert_eq!(guess_line_endings(&text("\"x\ry\"\na"), QUOTE), text("\n"));
        assert_eq!(guess_line_endings(&text("abc"), QUOTE), text("\n"));
    }

    #[test]
    fn repeated_headers_are_renamed_around_taken_names() {
        let mut row: Vec<Cell> = ["a", "a", "a_1", "a"].map(|h| Cow::Owned(text(h))).to_vec();
        let renamed = rename_headers(&mut row).unwrap();
        let names: Vec<Text> = row.into_iter().map(Cow::into_owned).collect();
        assert_eq!(
            names,
            vec![text("a"), text("a_2"), text("a_1"), text("a_3")]
        );
        assert_eq!(
            renamed,
            vec![(text("a_2"), text("a")), (text("a_3"), text("a"))]
        );
    }

    #[test]
    fn find_unit_finds_the_first_match_in_and_past_whole_blocks() {
        assert_eq!(find_unit(&[7u16; 100], 9), None);
        assert_eq!(find_unit(&[], 9), None);
        for at in [0, 31, 32, 63, 64, 95, 98] {
            let mut hay = vec![7u16; 100];
            hay[at] = 9;
            hay[99] = 9; // a later match must not be the one found
            assert_eq!(find_unit(&hay, 9), Some(at), "at {at}");
        }
        assert_eq!(index_of(&text("a,b,c"), &text(","), 2), Some(3));
    }

    #[test]
    fn a_table_keeps_rows_apart_through_truncate_and_retain() {
        let mut table = Table::default();
        for row in [&[1, 2][..], &[], &[3], &[4, 5, 6]] {
            let start = table.cells.len();
            table.cells.extend_from_slice(row);
            table.end_row(start);
        }
        let kept = table.clone().retain_rows(|row| !row.is_empty());
        assert_eq!(
            kept.rows().collect::<Vec<_>>(),
            vec![&[1, 2][..], &[3], &[4, 5, 6]]
        );
        table.truncate(2);
        assert_eq!(table.rows().collect::<Vec<_>>(), vec![&[1, 2][..], &[]]);
        assert_eq!(table.cells, vec![1, 2]);
    }

    #[test]
    fn quoted_fields_escapes_and_errors() {
        let input = text("\"a,b\",\"c\"\"d\"\n\"open");
        let results = parse(&input, &Options::default(), &never_cancelled()).unwrap();
        let rows: Vec<_> = results.data.rows().collect();
        assert_eq!(strings(rows[0]), vec!["a,b", "c\"d"]);
        assert_eq!(strings(rows[1]), vec!["open"]);
        assert_eq!(results.errors[0].code, "MissingQuotes");
        assert_eq!(
            (results.errors[0].row, results.errors[0].index),
            (Some(1), Some(14))
        );
        assert_eq!(results.cursor, 18);
    }

    #[test]
    fn scanning_in_parts_gives_the_scan_of_the_whole() {
        // Inputs of every shape the alphabet allows: quoted fields across newlines,
        // doubled and stray quotes, comments, CRLF, blank lines, an unterminated quote.
        let alphabet = ['a', 'b', ',', '"', '\n', '\r', '#', ' '];
        let mut split = false;
        let mut seed = 7u64;
        let mut random = move |below: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % below
        };
        for case in 0..300 {
            let len = 1 + random(120);
            let input: String = (0..len).map(|_| alphabet[random(alphabet.len())]).collect();
            let input = text(&input);
            for (newline, comments, fast_mode) in [
                ("\n", None, None),
                ("\r\n", Some("#"), None),
                ("\n", Some("#"), Some(false)),
                ("\r", None, Some(true)),
            ] {
                let scanner = Scanner::new(
                    &input,
                    &text(","),
                    &text(newline),
                    comments.map(text).as_deref(),
                    0,
                    fast_mode,
                    QUOTE,
                    QUOTE,
                    false,
                )
                .unwrap();
                let fast =
                    fast_mode == Some(true) || (fast_mode.is_none() && !input.contains(&QUOTE));
                let whole = scanner.scan_from(fast, 0, usize::MAX);
                for units_per_part in [1, 2, 3, 5, 8, 13] {
                    let mut parts = scanner.scan_in_parts(fast, &never_cancelled(), units_per_part);
                    let what = format!("case {case}, {newline:?}, parts of {units_per_part}");
                    let tables = parts.tables();
                    split |= tables.len() > 1;
                    let mut data = Table::default();
                    for mut table in tables {
                        data.cells.append(&mut table.cells);
                        data.lengths.append(&mut table.lengths);
                    }
                    assert_eq!(data, whole.data, "{what}");
                    assert_eq!(parts.errors, whole.errors, "{what}");
                    assert_eq!(parts.cursor, whole.cursor, "{what}");
                    assert_eq!(parts.stopped_at, None, "{what}");
                }
            }
        }
        assert!(split, "some inputs were scanned in more than one part");
    }

    #[test]
    fn typing_in_chunks_gives_the_rows_and_errors_of_one_parse() {
        let input = text("a,b,c\n1,x,true\n2,y\n3,z,false,extra\n4,w,null\n5\n6,v,1e3\n");
        let options = Options {
            header: true,
            dynamic_typing: DynamicTyping::All,
            ..Options::default()
        };
        let whole = parse(&input, &options, &never_cancelled()).unwrap();
        for cells_per_part in [1, 2, 3, 5, 8, 100] {
            let mut parsing = Parsing::new(&input, &options, &never_cancelled()).unwrap();
            let data = parsing.rest_in_parts_of(&never_cancelled(), cells_per_part);
            assert_eq!(parsing.rows_left(), 0);
            let in_parts = Results {
                data,
                ..parsing.results
            };
            assert_eq!(in_parts, whole, "parts of {cells_per_part} cells");
        }
        for min_cells in [1, 2, 3, 5, 8] {
            let mut parsing = Parsing::new(&input, &options, &never_cancelled()).unwrap();
            let mut data = Table::default();
            while parsing.rows_left() > 0 {
                let chunk = parsing.next_rows(min_cells);
                assert!(
                    !chunk.lengths.is_empty(),
                    "a chunk of no rows at {min_cells}"
                );
                data.cells.extend(chunk.cells);
                data.lengths.extend(chunk.lengths);
            }
            assert_eq!(
                Results {
                    data,
                    ..parsing.results
                },
                whole,
                "chunks of at least {min_cells} cells"
            );
        }
        // Scanned in parts too: the header, blank lines and row numbers across parts.
        let options = Options {
            skip_empty_lines: SkipEmptyLines::Greedy,
            ..options
        };
        let serial = parse(&input, &options, &never_cancelled()).unwrap();
        for units_per_part in [1, 3, 7, 12] {
            let ctx = never_cancelled();
            let mut parsing =
                Parsing::scanned_in_parts_of(&input, &options, &ctx, units_per_part).unwrap();
            let mut data = parsing.next_rows(3);
            let mut rest = parsing.rest_in_parts_of(&ctx, 2);
            data.cells.append(&mut rest.cells);
            data.lengths.append(&mut rest.lengths);
            let results = Results {
                data,
                ..parsing.results
            };
            assert_eq!(
                results, serial,
                "scanned in parts of {units_per_part} units"
            );
        }
        let rows: Vec<_> = whole.errors.iter().map(|e| (e.code, e.row)).collect();
        assert_eq!(
            rows,
            vec![
                ("TooFewFields", Some(1)),
                ("TooManyFields", Some(2)),
                ("TooFewFields", Some(4)),
                // The empty line after the last newline, as Papa Parse reports it too.
                ("TooFewFields", Some(6))
            ]
        );
    }
}
