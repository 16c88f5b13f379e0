//! Papa Parse's result as the exact UTF-8 text `JSON.stringify` makes of it in JavaScript:
//! its string escapes, its number formatting, its key order for row objects and a `Date`'s
//! ISO form. The errors and meta (which `lib/csv.js` also gets for every result) are written
//! by serde_json; JS strings go into it as raw JSON from `string`, since they may hold lone
//! UTF-16 surrogates, which `JSON.stringify` writes as `\udXXX` escapes and a Rust `str`
//! cannot carry. The rows are written here: JS numbers and row objects' key order are not
//! serde_json's.

use super::papa::{ParseError, Results, Text, Value};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

/// `{"data":[…],"errors":[…],"meta":{…}}`, byte for byte what `JSON.stringify` gives for
/// Papa Parse's result; Err if `JSON.stringify` would throw instead.
pub fn result(results: &Results<'_>, input_len: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(input_len + input_len / 2 + 256);
    out.extend_from_slice(b"{\"data\":[");
    let plan = results.fields.as_deref().map(ObjectPlan::new);
    for (i, row) in results.data.rows().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match &plan {
            Some(plan) => plan.write(&mut out, row)?,
            None => array(&mut out, row),
        }
    }
    out.extend_from_slice(b"],");
    // The result's members after its rows are those of the errors-and-meta object.
    let rest = errors_and_meta_object(results);
    out.extend_from_slice(&rest.as_bytes()[1..]);
    Ok(out)
}

/// `{"errors":[…],"meta":{…}}`: the rest of Papa Parse's result, for JS to add to its rows.
pub fn errors_and_meta_object(results: &Results<'_>) -> String {
    let errors_and_meta = ErrorsAndMeta {
        errors: &results.errors,
        meta: Meta {
            delimiter: JsString(&results.delimiter),
            linebreak: JsString(&results.linebreak),
            aborted: false,
            truncated: results.truncated,
            cursor: results.cursor,
            renamed_headers: results.renamed_headers.as_deref().map(RenamedHeaders),
            fields: results
                .fields
                .as_ref()
                .map(|fields| fields.iter().map(|field| JsString(field)).collect()),
        },
    };
    serde_json::to_string(&errors_and_meta).expect("plain values always serialize")
}

#[derive(Serialize)]
struct ErrorsAndMeta<'r> {
    errors: &'r [ParseError],
    meta: Meta<'r>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Meta<'r> {
    delimiter: JsString<'r>,
    linebreak: JsString<'r>,
    aborted: bool,
    truncated: bool,
    cursor: usize,
    renamed_headers: Option<RenamedHeaders<'r>>,
    /// Only with a header.
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<Vec<JsString<'r>>>,
}

/// A JS string (UTF-16, lone surrogates and all), as `JSON.stringify` writes it.
struct JsString<'r>(&'r [u16]);

impl Serialize for JsString<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut text = Vec::with_capacity(self.0.len() + 2);
        string(&mut text, self.0);
        raw_json(text).serialize(serializer)
    }
}

/// `meta.renamedHeaders`, new name → original, in a JS object's key order (Papa Parse fills
/// it key by key). Its keys may hold lone surrogates, which serde_json's keys (Rust `str`s)
/// cannot, so the object goes in whole as raw JSON.
struct RenamedHeaders<'r>(&'r [(Text, Text)]);

impl Serialize for RenamedHeaders<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let keys: Vec<&[u16]> = self.0.iter().map(|(new, _)| new.as_slice()).collect();
        let mut text = vec![b'{'];
        for (i, &at) in key_order(&keys).iter().enumerate() {
            if i > 0 {
                text.push(b',');
            }
            let (new, original) = &self.0[at];
            string(&mut text, new);
            text.push(b':');
            string(&mut text, original);
        }
        text.push(b'}');
        raw_json(text).serialize(serializer)
    }
}

/// JSON text made by `string` (always UTF-8 and valid), for serde_json to embed as it is.
fn raw_json(text: Vec<u8>) -> Box<RawValue> {
    let text = String::from_utf8(text).expect("`string` writes UTF-8");
    RawValue::from_string(text).expect("`string` writes valid JSON")
}

/// `[…]`, each item written by `write`.
fn list<T>(
    out: &mut Vec<u8>,
    items: impl IntoIterator<Item = T>,
    mut write: impl FnMut(&mut Vec<u8>, T),
) {
    out.push(b'[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(out, item);
    }
    out.push(b']');
}

fn array(out: &mut Vec<u8>, values: &[Value<'_>]) {
    list(out, values, write_value);
}

fn write_value(out: &mut Vec<u8>, value: &Value<'_>) {
    match value {
        Value::Text(text) => string(out, text),
        Value::Number(n) => number(out, *n),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Null => out.extend_from_slice(b"null"),
        Value::Date(text) => match iso_date_millis(text) {
            Some(millis) => {
                out.push(b'"');
                out.extend_from_slice(iso_string(millis).as_bytes());
                out.push(b'"');
            }
            // An invalid Date's toJSON is null.
            None => out.extend_from_slice(b"null"),
        },
    }
}

/// A JS number as `JSON.stringify` writes it: `Number.prototype.toString`, null when not finite.
fn number(out: &mut Vec<u8>, n: f64) {
    if n.is_finite() {
        let mut buffer = ryu_js::Buffer::new();
        out.extend_from_slice(buffer.format_finite(n).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// How one header's rows are written as objects. Papa Parse assigns `row[field] = value`
/// field by field (then `__parsed_extra` for values past the header), and a JS object lists
/// its array-index keys first, in numeric order, then the others in the order they came.
struct ObjectPlan<'f> {
    fields: &'f [Vec<u16>],
    /// Field numbers in the order the object lists them, `__proto__` left out: assigning
    /// it sets the prototype instead of a key.
    order: Vec<usize>,
    /// The field named `__proto__`, whose Date value would make `JSON.stringify` throw.
    proto: Option<usize>,
    /// The field named `__parsed_extra`: Papa Parse pushes its value to the same list as
    /// the values past the header.
    parsed_extra: Option<usize>,
}

const PROTO: &[u8] = b"__proto__";
const PARSED_EXTRA: &[u8] = b"__parsed_extra";

fn is(field: &[u16], name: &[u8]) -> bool {
    field.len() == name.len() && field.iter().zip(name).all(|(&u, &b)| u == b as u16)
}

impl<'f> ObjectPlan<'f> {
    fn new(fields: &'f [Vec<u16>]) -> Self {
        let keys: Vec<&[u16]> = fields.iter().map(Vec::as_slice).collect();
        let proto = fields.iter().position(|f| is(f, PROTO));
        ObjectPlan {
            fields,
            order: key_order(&keys)
                .into_iter()
                .filter(|&i| Some(i) != proto)
                .collect(),
            proto,
            parsed_extra: fields.iter().position(|f| is(f, PARSED_EXTRA)),
        }
    }

    fn write(&self, out: &mut Vec<u8>, row: &[Value<'_>]) -> Result<(), String> {
        let named = row.len().min(self.fields.len());
        if self
            .proto
            .is_some_and(|p| matches!(row.get(p), Some(Value::Date(_))))
        {
            return Err("a row's __proto__ field holds a date, which makes it a Date whose toJSON throws: JSON.stringify cannot write Papa Parse's result".into());
        }
        let extras = (row.len() > self.fields.len()).then(|| &row[self.fields.len()..]);
        out.push(b'{');
        let mut first = true;
        let mut key = |out: &mut Vec<u8>, name: &[u16]| {
            if !std::mem::take(&mut first) {
                out.push(b',');
            }
            string(out, name);
            out.push(b':');
        };
        for &i in &self.order {
            if i >= named {
                continue;
            }
            key(out, &self.fields[i]);
            if Some(i) == self.parsed_extra {
                let extras = extras.unwrap_or_default();
                array(out, &[std::slice::from_ref(&row[i]), extras].concat());
            } else {
                write_value(out, &row[i]);
            }
        }
        if let (Some(extras), None) = (extras, self.parsed_extra) {
            key(
                out,
                &PARSED_EXTRA.iter().map(|&b| b as u16).collect::<Vec<_>>(),
            );
            array(out, extras);
        }
        out.push(b'}');
        Ok(())
    }
}

/// The order a JS object lists keys added in this order: array indices (canonical numbers
/// up to 2³² − 2) ascending, then the rest as they came. Keys are distinct.
fn key_order(keys: &[&[u16]]) -> Vec<usize> {
    let mut indices: Vec<(u32, usize)> = Vec::new();
    let mut others = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        match array_index(key) {
            Some(index) => indices.push((index, i)),
            None => others.push(i),
        }
    }
    indices.sort_unstable();
    indices.into_iter().map(|(_, i)| i).chain(others).collect()
}

fn array_index(key: &[u16]) -> Option<u32> {
    let canonical = match key {
        [] => false,
        [digit] => (b'0' as u16..=b'9' as u16).contains(digit),
        [first, rest @ ..] => {
            (b'1' as u16..=b'9' as u16).contains(first)
                && rest
                    .iter()
                    .all(|&u| (b'0' as u16..=b'9' as u16).contains(&u))
        }
    };
    if !canonical || key.len() > 10 {
        return None;
    }
    let value = key
        .iter()
        .fold(0u64, |n, &u| n * 10 + u64::from(u - b'0' as u16));
    (value <= u64::from(u32::MAX - 1)).then_some(value as u32)
}

/// UTF-16 text as a JSON string, escaped as `JSON.stringify` escapes: `\"`, `\\`, the short
/// escapes, `\u00XX` for other control characters, `\uXXXX` (lowercase) for lone surrogates.
pub fn string(out: &mut Vec<u8>, text: &[u16]) {
    out.push(b'"');
    let mut units = text.iter().copied().peekable();
    while let Some(unit) = units.next() {
        match unit {
            0x22 => out.extend_from_slice(b"\\\""),
            0x5c => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x0a => out.extend_from_slice(b"\\n"),
            0x0d => out.extend_from_slice(b"\\r"),
            0x09 => out.extend_from_slice(b"\\t"),
            0..=0x1f => out.extend_from_slice(format!("\\u{unit:04x}").as_bytes()),
            0x20..=0x7f => out.push(unit as u8),
            0xd800..=0xdbff => match units.peek() {
                Some(&low @ 0xdc00..=0xdfff) => {
                    units.next();
                    let code =
                        0x10000 + ((u32::from(unit) - 0xd800) << 10) + (u32::from(low) - 0xdc00);
                    let c = char::from_u32(code).expect("a surrogate pair is a scalar value");
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
                _ => out.extend_from_slice(format!("\\u{unit:04x}").as_bytes()),
            },
            0xdc00..=0xdfff => out.extend_from_slice(format!("\\u{unit:04x}").as_bytes()),
            _ => {
                let c = char::from_u32(u32::from(unit)).expect("not a surrogate");
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            }
        }
    }
    out.push(b'"');
}

const MS_PER_DAY: i64 = 86_400_000;

/// What `new Date(text)` holds for Papa Parse's ISO date strings (`YYYY-MM-DDTHH:mm`,
/// optional `:ss` and fraction, then `Z` or `±HH:mm`), as V8 reads them: ms since the
/// epoch, or None for an invalid Date. Days past a month's end roll over; hour 24 is only
/// midnight; the fraction's first three digits are the milliseconds.
fn iso_date_millis(text: &[u16]) -> Option<i64> {
    let bytes: Vec<u8> = text
        .iter()
        .map(|&u| u8::try_from(u).ok())
        .collect::<Option<_>>()?;
    let number = |from: usize, len: usize| -> Option<i64> {
        let digits = bytes.get(from..from + len)?;
        digits
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| digits.iter().fold(0, |n, &d| n * 10 + i64::from(d - b'0')))
    };
    let (year, month, day) = (number(0, 4)?, number(5, 2)?, number(8, 2)?);
    let (hour, minute) = (number(11, 2)?, number(14, 2)?);
    let mut at = 16;
    let (mut second, mut millis) = (0, 0);
    if bytes.get(at) == Some(&b':') {
        second = number(at + 1, 2)?;
        at += 3;
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            let digits = bytes[at..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            for (place, scale) in [100, 10, 1].into_iter().enumerate() {
                if place < digits {
                    millis += i64::from(bytes[at + place] - b'0') * scale;
                }
            }
            at += digits;
        }
    }
    let offset_minutes = match bytes.get(at)? {
        b'Z' => 0,
        sign @ (b'+' | b'-') => {
            let (hours, minutes) = (number(at + 1, 2)?, number(at + 4, 2)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 60 + minutes;
            if *sign == b'+' {
                offset
            } else {
                -offset
            }
        }
        _ => return None,
    };
    let valid_time = (hour < 24 && minute < 60 && second < 60)
        || (hour == 24 && minute == 0 && second == 0 && millis == 0);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || !valid_time {
        return None;
    }
    let days = days_from_civil(year, month, 1) + day - 1;
    let time = ((hour * 60 + minute - offset_minutes) * 60 + second) * 1000 + millis;
    Some(days * MS_PER_DAY + time)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day count from 1970-01-01, as (year, month, day).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `Date.prototype.toISOString`: four-digit years, or six with a sign outside 0..=9999.
fn iso_string(millis: i64) -> String {
    let (days, time) = (millis.div_euclid(MS_PER_DAY), millis.rem_euclid(MS_PER_DAY));
    let (year, month, day) = civil_from_days(days);
    let year = if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else {
        format!("{}{:06}", if year < 0 { '-' } else { '+' }, year.abs())
    };
    format!(
        "{year}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        time / 3_600_000,
        time / 60_000 % 60,
        time / 1000 % 60,
        time % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    fn json_string(text: &[u16]) -> String {
        let mut out = Vec::new();
        string(&mut out, text);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_are_escaped_as_json_stringify_escapes() {
        assert_eq!(json_string(&units("a\"b\\c")), r#""a\"b\\c""#);
        assert_eq!(
            json_string(&units("\u{8}\u{c}\n\r\t\u{1}\u{1f}")),
            r#""\b\f\n\r\t\u0001\u001f""#
        );
        assert_eq!(json_string(&units("é€😀\u{7f}")), "\"é€😀\u{7f}\"");
        assert_eq!(json_string(&[0xd800, 0x61, 0xdfff]), r#""\ud800a\udfff""#);
        assert_eq!(
            json_string(&[0xdbff]),
            r#""\udbff""#,
            "a high surrogate at the end"
        );
    }

    #[test]
    fn numbers_are_written_as_javascript_writes_them() {
        for (n, expected) in [
            (1.0, "1"),
            (-0.0, "0"),
            (0.1, "0.1"),
            (1e21, "1e+21"),
            (1.5e-7, "1.5e-7"),
            (123456789012345680000.0, "123456789012345680000"),
            (f64::NAN, "null"),
            (f64::INFINITY, "null"),
        ] {
            let mut out = Vec::new();
            number(&mut out, n);
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{n}");
        }
    }

    #[test]
    fn object_keys_list_array_indices_first() {
        let keys = ["b", "10", "a", "2", "01", "4294967294", "4294967295", "0"].map(units);
        let keys: Vec<&[u16]> = keys.iter().map(Vec::as_slice).collect();
        assert_eq!(key_order(&keys), [7, 3, 1, 5, 0, 2, 4, 6]);
    }

    #[test]
    fn dates_are_read_as_v8_reads_them() {
        for (text, expected) in [
            ("2020-01-01T10:00:00Z", Some("2020-01-01T10:00:00.000Z")),
            ("2020-02-30T00:00:00Z", Some("2020-03-01T00:00:00.000Z")),
            ("2020-01-01T24:00:00.000Z", Some("2020-01-02T00:00:00.000Z")),
            (
                "2020-01-01T10:00:00.123456789+05:30",
                Some("2020-01-01T04:30:00.123Z"),
            ),
            ("2020-01-01T10:00:00.5Z", Some("2020-01-01T10:00:00.500Z")),
            ("2020-01-01T00:00Z", Some("2020-01-01T00:00:00.000Z")),
            (
                "9999-12-31T23:59:59.999-23:59",
                Some("+010000-01-01T23:58:59.999Z"),
            ),
            (
                "0000-01-01T00:00:00+00:01",
                Some("-000001-12-31T23:59:00.000Z"),
            ),
            ("2020-13-01T00:00:00Z", None),
            ("2020-01-00T00:00:00Z", None),
            ("2020-01-32T00:00:00Z", None),
            ("2020-01-01T24:00:01Z", None),
            ("2020-01-01T25:00:00Z", None),
            ("2020-01-01T00:00:00+24:00", None),
        ] {
            let millis = iso_date_millis(&units(text));
            assert_eq!(millis.map(iso_string).as_deref(), expected, "{text}");
        }
    }
}
