//! The scanner (Papa Parse's `Parser`): rows and fields found in the text, whole or in
//! parts on free threads.

use super::guess::rename_headers;
use super::search::{index_of, is_blank, split_lazily, text};
use super::{Cell, ParseError, Table, Text, BOM, QUOTE};
use crate::pool::Ctx;
use std::borrow::Cow;

/// The core scanner (Papa Parse's `Parser`), for one whole input.
pub(super) struct Scanner<'a> {
    pub(super) delim: Text,
    pub(super) newline: Text,
    pub(super) comments: Option<Text>,
    pub(super) preview: usize,
    pub(super) fast_mode: Option<bool>,
    pub(super) quote: u16,
    pub(super) escape: u16,
    pub(super) header: bool,
    pub(super) input: &'a [u16],
}

#[derive(Default)]
pub(super) struct Scanned<'a> {
    /// The rows being scanned; the rows of parts scanned before them are in `earlier`.
    pub(super) data: Table<Cell<'a>>,
    pub(super) earlier: Vec<Table<Cell<'a>>>,
    pub(super) errors: Vec<ParseError>,
    /// Where the last row ended; None before any did.
    pub(super) cursor: Option<usize>,
    pub(super) truncated: bool,
    pub(super) renamed_headers: Option<Vec<(Text, Text)>>,
    /// Where a scan told to stop did, at the first row start at or past its stop; None
    /// when it ran to the end of the input.
    pub(super) stopped_at: Option<usize>,
}

impl<'a> Scanned<'a> {
    /// Appends what a scan from where this one stopped found: its rows come after ours.
    pub(super) fn append(&mut self, next: Scanned<'a>) {
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
    pub(super) fn tables(&mut self) -> Vec<Table<Cell<'a>>> {
        let mut tables = std::mem::take(&mut self.earlier);
        tables.push(std::mem::take(&mut self.data));
        tables
    }
}

/// Input units per part when a long input is scanned in parts: a few milliseconds' work.
pub(super) const UNITS_PER_PART: usize = 1 << 20;

/// A stretch of the input to scan on some thread: from `start`, a row start if the part
/// before ends there, to the first row start at or past `stop_at`.
pub(super) struct ScanPart<'a> {
    pub(super) start: usize,
    pub(super) stop_at: usize,
    pub(super) scanned: Option<Scanned<'a>>,
}

pub(super) const BAD_DELIMITERS: [u16; 4] = [b'\r' as u16, b'\n' as u16, QUOTE, BOM];

pub(super) fn is_bad(text: &[u16]) -> bool {
    matches!(text, [c] if BAD_DELIMITERS.contains(c))
}

impl<'a> Scanner<'a> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
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
    pub(super) fn unescape(&self, field: &'a [u16]) -> Cell<'a> {
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
    pub(super) fn scan(&self, ctx: &Ctx, units_per_part: usize) -> Scanned<'a> {
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
    pub(super) fn scan_from(&self, fast: bool, start: usize, stop_at: usize) -> Scanned<'a> {
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
    pub(super) fn scan_in_parts(
        &self,
        fast: bool,
        ctx: &Ctx,
        units_per_part: usize,
    ) -> Scanned<'a> {
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
    pub(super) fn part_starts(&self, fast: bool, ctx: &Ctx, units_per_part: usize) -> Vec<usize> {
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

    pub(super) fn scan_fast(&self, out: &mut Scanned<'a>, start: usize, stop_at: usize) {
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

    /// Papa Parse's quote-aware scan, from `start` (a row start) to the end, or to the
    /// first row start at or past `stop_at`.
    fn scan_quoted(&self, out: &mut Scanned<'a>, start: usize, stop_at: usize) {
        let mut scan = QuotedScan {
            next_delim: index_of(self.input, &self.delim, start),
            next_newline: index_of(self.input, &self.newline, start),
            scanner: self,
            out,
            cursor: start,
            row_start: 0,
        };
        while scan.step(stop_at) == Step::Next {}
    }

    /// A comment starts at `at` (Papa Parse: `input.substring(at, at + len) === comments`).
    pub(super) fn is_comment_at(&self, at: usize) -> bool {
        self.comments
            .as_ref()
            .is_some_and(|c| self.input.get(at..).is_some_and(|rest| rest.starts_with(c)))
    }

    /// The last field, the last row, and the cursor at the end.
    pub(super) fn finish(&self, out: &mut Scanned<'a>, row_start: usize, value: Cell<'a>) {
        out.data.cells.push(value);
        out.data.end_row(row_start);
        out.cursor = Some(self.input.len());
    }
}

/// Whether a scan goes on after a step.
#[derive(PartialEq, Eq)]
enum Step {
    Next,
    Done,
}

/// One quote-aware scan under way: where it is, and where the next delimiter and newline
/// are (Papa Parse's `nextDelim` and `nextNewline`, searched again only once passed).
struct QuotedScan<'s, 'a> {
    scanner: &'s Scanner<'a>,
    out: &'s mut Scanned<'a>,
    cursor: usize,
    /// Where the row being scanned begins in `out.data.cells`.
    row_start: usize,
    next_delim: Option<usize>,
    next_newline: Option<usize>,
}

impl<'a> QuotedScan<'_, 'a> {
    /// Takes one field (or skips one comment line), or ends the scan.
    fn step(&mut self, stop_at: usize) -> Step {
        let at_row_start = self.out.data.cells.len() == self.row_start;
        if self.cursor >= stop_at && at_row_start {
            self.out.stopped_at = Some(self.cursor);
            return Step::Done;
        }
        let input = self.scanner.input;
        if input.get(self.cursor) == Some(&self.scanner.quote) {
            return self.quoted_field();
        }
        if at_row_start && self.scanner.is_comment_at(self.cursor) {
            let Some(newline) = self.next_newline else {
                return Step::Done;
            };
            self.cursor = newline + self.scanner.newline.len();
            self.seek_past(self.cursor);
            return Step::Next;
        }
        match (self.next_delim, self.next_newline) {
            (Some(delim), newline) if newline.is_none_or(|newline| delim < newline) => {
                self.out
                    .data
                    .cells
                    .push(Cow::Borrowed(&input[self.cursor..delim]));
                self.cursor = delim + self.scanner.delim.len();
                self.next_delim = index_of(input, &self.scanner.delim, self.cursor);
                Step::Next
            }
            (_, Some(newline)) => {
                self.out
                    .data
                    .cells
                    .push(Cow::Borrowed(&input[self.cursor..newline]));
                self.end_row(newline + self.scanner.newline.len())
            }
            _ => {
                let rest = Cow::Borrowed(&input[self.cursor.min(input.len())..]);
                self.scanner.finish(self.out, self.row_start, rest);
                Step::Done
            }
        }
    }

    /// A field that opens with a quote at the cursor: it closes at a quote followed (after
    /// blanks) by a delimiter or newline; any other quote inside is an error, and kept.
    fn quoted_field(&mut self) -> Step {
        let scanner = self.scanner;
        let (input, quote, escape) = (scanner.input, scanner.quote, scanner.escape);
        let mut quote_search = self.cursor;
        self.cursor += 1;
        loop {
            let Some(found) = index_of(input, &[quote], quote_search + 1) else {
                self.error("MissingQuotes", "Quoted field unterminated");
                let rest = Cow::Borrowed(&input[self.cursor..]);
                scanner.finish(self.out, self.row_start, rest);
                return Step::Done;
            };
            quote_search = found;
            if quote_search == input.len() - 1 {
                let value = scanner.unescape(&input[self.cursor..quote_search]);
                scanner.finish(self.out, self.row_start, value);
                return Step::Done;
            }
            let next = input.get(quote_search + 1).copied();
            if quote == escape && next == Some(escape) {
                quote_search += 1;
                continue;
            }
            if quote != escape && quote_search != 0 && input[quote_search - 1] == escape {
                continue;
            }
            self.seek_past(quote_search + 1);
            let before_delim = match (self.next_newline, self.next_delim) {
                (None, delim) => delim,
                (Some(newline), Some(delim)) => Some(newline.min(delim)),
                // Math.min(-1, n) is -1 in Papa Parse: no blanks are skipped.
                (Some(_), None) => None,
            };
            let after = quote_search + 1 + self.blanks_after(quote_search, before_delim);
            if input.get(after..after + scanner.delim.len()) == Some(&scanner.delim[..]) {
                self.take_quoted(quote_search);
                self.cursor = after + scanner.delim.len();
                self.seek_past(self.cursor);
                return Step::Next;
            }
            let after = quote_search + 1 + self.blanks_after(quote_search, self.next_newline);
            let newline_end = (after + scanner.newline.len()).min(input.len());
            if input.get(after..newline_end) == Some(&scanner.newline[..]) {
                self.take_quoted(quote_search);
                let step = self.end_row(after + scanner.newline.len());
                self.seek_past(self.cursor);
                return step;
            }
            self.error(
                "InvalidQuotes",
                "Trailing quote on quoted field is malformed",
            );
            quote_search += 1;
        }
    }

    /// The quoted field from the cursor to its closing quote at `close`, unescaped.
    fn take_quoted(&mut self, close: usize) {
        let value = self
            .scanner
            .unescape(&self.scanner.input[self.cursor..close]);
        self.out.data.cells.push(value);
    }

    /// Ends the row at a newline; the next one starts at `next_row`. Done once the
    /// preview has its rows.
    fn end_row(&mut self, next_row: usize) -> Step {
        self.cursor = next_row;
        self.out.data.end_row(self.row_start);
        self.row_start = self.out.data.cells.len();
        self.out.cursor = Some(self.cursor);
        self.next_newline = index_of(self.scanner.input, &self.scanner.newline, self.cursor);
        let preview = self.scanner.preview;
        if preview > 0 && self.out.data.len() >= preview {
            self.out.truncated = true;
            return Step::Done;
        }
        Step::Next
    }

    /// Searches again for the next delimiter and newline where they are before `at`.
    fn seek_past(&mut self, at: usize) {
        let input = self.scanner.input;
        if self.next_delim.is_some_and(|delim| delim < at) {
            self.next_delim = index_of(input, &self.scanner.delim, at);
        }
        if self.next_newline.is_some_and(|newline| newline < at) {
            self.next_newline = index_of(input, &self.scanner.newline, at);
        }
    }

    /// How many blanks follow the quote at `quote_at` up to `until`, when nothing but
    /// blanks lies between them; else 0.
    fn blanks_after(&self, quote_at: usize, until: Option<usize>) -> usize {
        match until {
            Some(until) if until > quote_at + 1 => {
                let between = &self.scanner.input[quote_at + 1..until];
                if is_blank(between) {
                    between.len()
                } else {
                    0
                }
            }
            _ => 0,
        }
    }

    fn error(&mut self, code: &'static str, message: &str) {
        self.out.errors.push(ParseError {
            kind: "Quotes",
            code,
            message: message.into(),
            row: Some(self.out.data.len()),
            index: Some(self.cursor),
        });
    }
}
