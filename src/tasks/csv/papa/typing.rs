//! `dynamicTyping`: cells turned into numbers, booleans, nulls and dates, in parts on
//! free threads.

use super::search::is_js_space;
use super::{Cell, DynamicTyping, ParseError, Text, Value};
use std::mem::MaybeUninit;

pub(super) const CELLS_PER_PART: usize = 1 << 16;

/// Rows to type on some thread, into their place in the typed rows.
pub(super) struct TypingPart<'p, 'a, 'o> {
    pub(super) typed: TypedColumns<'o>,
    pub(super) lengths: &'p [usize],
    /// Taken (left empty) as they are typed.
    pub(super) cells: &'p mut [Cell<'a>],
    pub(super) first_row: usize,
    /// One per cell, written in order.
    pub(super) slots: &'p mut [MaybeUninit<Value<'a>>],
    pub(super) errors: Vec<ParseError>,
    /// Every slot is written.
    pub(super) done: bool,
}

impl TypingPart<'_, '_, '_> {
    pub(super) fn run(&mut self) {
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
pub(super) const PROPERTIES_OF_TRUE: [&str; 12] = [
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
pub(super) struct TypedColumns<'o> {
    pub(super) config: &'o DynamicTyping,
    pub(super) names: Option<Vec<Text>>,
    pub(super) decided: Vec<bool>,
    pub(super) extra: bool,
}

impl<'o> TypedColumns<'o> {
    pub(super) fn new(config: &'o DynamicTyping, names: Option<Vec<Text>>) -> Self {
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
    pub(super) fn decide(config: &DynamicTyping, field: &str) -> bool {
        match config {
            DynamicTyping::Off => false,
            DynamicTyping::All => !PROPERTIES_OF_TRUE.contains(&field),
            DynamicTyping::Fields(map) => map.get(field).copied().unwrap_or(false),
        }
    }

    pub(super) fn applies(&mut self, column: usize) -> bool {
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
    pub(super) fn type_rows<'a>(
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

    pub(super) fn apply<'a>(&mut self, column: usize, cell: Cell<'a>) -> Value<'a> {
        if self.applies(column) {
            dynamic_value(cell)
        } else {
            Value::Text(cell)
        }
    }

    pub(super) fn apply_extra<'a>(&self, cell: Cell<'a>) -> Value<'a> {
        if self.extra {
            dynamic_value(cell)
        } else {
            Value::Text(cell)
        }
    }
}

/// `cell` equals the ASCII string `ascii`.
pub(super) fn is(cell: &[u16], ascii: &str) -> bool {
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

pub(super) const MAX_FLOAT: f64 = 9_007_199_254_740_992.0; // 2^53

/// `/^\s*-?(\d+\.?|\.\d+|\d+\.\d+)([eE][-+]?\d+)?\s*$/`, then parseFloat, strictly
/// within ±2⁵³.
pub(super) fn float(value: &[u16]) -> Option<f64> {
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
pub(super) fn as_ascii<R>(units: &[u16], f: impl FnOnce(&[u8]) -> R) -> R {
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
pub(super) fn is_iso_date(value: &[u16]) -> bool {
    // Every unit the pattern admits is ASCII, and it is at least 17 long.
    if value.len() < 17 || value.iter().any(|&u| u > 0x7f) {
        return false;
    }
    as_ascii(value, iso_date_bytes)
}

/// `is_iso_date` on the bytes of an ASCII string.
pub(super) fn iso_date_bytes(b: &[u8]) -> bool {
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
