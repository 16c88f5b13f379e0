//! `parseCsv`: Papa Parse's `{ data, errors, meta }` for the same input and options, parsed
//! off the main thread. The rows go back in chunks, each sent as soon as it is typed, as
//! flat typed arrays and one string of texts, from which `lib/csv.js` builds the JS values
//! while the next chunk is made: much cheaper on the main thread than parsing the same
//! rows out of JSON text.

mod cells;
mod json;
mod papa;

use super::files::Source;
use super::{Context, Encode, Task};
use crate::error::{Failure, Kind};
use crate::js::{args, describe, to_js, Decoder, JsText};
use crate::pool::Ctx;
use cells::{Cells, Columns, SharedTexts};
use napi::bindgen_prelude::{Buffer, Float64Array, Object, Uint32Array, Uint8Array, Unknown};
use napi::{sys, Env, ValueType};
use papa::{DynamicTyping, Layout, Options, Parsing, SkipEmptyLines, Text};
use std::collections::HashMap;

/// Inputs past this many bytes (Buffers) or UTF-16 units (strings) are ERR_INPUT_TOO_LARGE:
/// the JSON for them would pass V8's largest string.
pub const MAX_INPUT: usize = 256 << 20;

/// Cells per part of the rows: small enough that JS starts building early, large enough
/// that a part's own cost (a wake-up, a turn of the event loop) is lost in its building.
const CHUNK_CELLS: usize = 1 << 16;

/// UTF-8 bytes per part when a long input is turned into UTF-16 in parts.
const BYTES_PER_PART: usize = 1 << 20;

/// UTF-8 as UTF-16, ill-formed sequences replaced as `String::from_utf8_lossy` replaces
/// them; a long input in parts on the pool's free threads, each cut before a byte that
/// begins a character (never inside a sequence, well-formed or not). Parts skipped once the
/// task is cancelled leave text out: the caller checks `ctx.cancelled()`.
fn utf8_to_utf16(bytes: &[u8], ctx: &Ctx, bytes_per_part: usize) -> Text {
    let whole = |bytes: &[u8]| -> Text { String::from_utf8_lossy(bytes).encode_utf16().collect() };
    if bytes.len() < 2 * bytes_per_part {
        return whole(bytes);
    }
    let count = bytes.len() / bytes_per_part;
    let mut cuts = vec![0];
    for k in 1..count {
        let mut at = k * bytes.len() / count;
        while at < bytes.len() && bytes[at] & 0xc0 == 0x80 {
            at += 1;
        }
        if at < bytes.len() && cuts.last() < Some(&at) {
            cuts.push(at);
        }
    }
    cuts.push(bytes.len());
    let mut parts: Vec<(&[u8], Text)> = cuts
        .windows(2)
        .map(|cut| (&bytes[cut[0]..cut[1]], Text::new()))
        .collect();
    ctx.for_each(&mut parts, |(bytes, units)| *units = whole(bytes));
    let mut units = Text::with_capacity(parts.iter().map(|(_, units)| units.len()).sum());
    for (_, part) in parts {
        units.extend_from_slice(&part);
    }
    units
}

/// Papa Parse options that act only when they are functions, which cannot cross to a
/// native thread (Papa Parse writes `transform: false` into options it was given, so a
/// non-function is left alone, as it would be there).
const FUNCTION_OPTIONS: [&str; 7] = [
    "transform",
    "transformHeader",
    "step",
    "chunk",
    "complete",
    "error",
    "beforeFirstChunk",
];
/// Papa Parse options that change the parse when truthy and that parseCsv does not offer.
const UNSUPPORTED_WHEN_SET: [&str; 3] = ["worker", "download", "skipFirstNLines"];

pub enum CsvSource {
    Utf16(Text),
    /// Bytes, or a file (`{ path }`), as UTF-8.
    Utf8(Source),
}

pub struct CsvInput {
    source: CsvSource,
    options: Options,
}

/// Cells on their way to JS, with the names `lib/csv.js` builds them under: a part of the
/// rows, sent while later rows are typed, or the last rows (or the columns) in the output.
pub struct Chunk {
    cells: Cells,
    texts: JsText,
    /// The header names (rows with `header: true`, in the first chunk only), or every
    /// column's name (columns).
    fields: Option<Vec<Text>>,
}

impl Chunk {
    fn new(mut cells: Cells, fields: Option<Vec<Text>>) -> Self {
        let texts = JsText::new(std::mem::take(&mut cells.texts));
        Chunk {
            cells,
            texts,
            fields,
        }
    }

    /// `{ rowLengths, kinds, numbers, texts, textEnds, places, fields }`.
    fn into_object<'env>(self, env: &'env Env) -> napi::Result<Object<'env>> {
        let mut object = Object::new(env)?;
        object.set("rowLengths", Uint32Array::new(self.cells.row_lengths))?;
        object.set("kinds", Uint8Array::new(self.cells.kinds))?;
        object.set("numbers", Float64Array::new(self.cells.numbers))?;
        object.set("textEnds", Uint32Array::new(self.cells.text_ends))?;
        object.set("places", Uint32Array::new(self.cells.places))?;
        object.set("texts", self.texts.to_js(env)?)?;
        let fields = match self.fields {
            None => None,
            Some(names) => Some(
                names
                    .into_iter()
                    .map(|name| JsText::new(name).to_js(env))
                    .collect::<napi::Result<Vec<_>>>()?,
            ),
        };
        object.set("fields", fields)?;
        Ok(object)
    }
}

impl Encode for Chunk {
    fn encode(self: Box<Self>, env: &Env) -> napi::Result<sys::napi_value> {
        to_js(env, self.into_object(env)?)
    }
}

#[allow(
    clippy::large_enum_variant,
    reason = "made once per task and moved once, into the box the bridge keeps it in"
)]
pub enum CsvOutput {
    /// Rows or columns for `lib/csv.js` to build.
    Cells {
        /// The last rows (the others went ahead as parts), or the non-numeric columns' cells.
        chunk: Chunk,
        /// `output: 'columns'`: per column, its numbers, or None if its values are in `chunk`.
        numeric_columns: Option<(Vec<Option<Vec<f64>>>, u32)>,
        /// `{ errors, meta }` as JSON text.
        errors_and_meta: String,
    },
    /// `output: 'json'`: the whole result as JSON text.
    Json(Vec<u8>),
}

pub struct ParseCsv;

impl Task for ParseCsv {
    const NAME: &'static str = "parseCsv";
    const RESULT_BUILDER: Option<&'static str> = Some("csv");
    type Input = CsvInput;
    type Output = CsvOutput;

    fn decode(decoder: &mut Decoder, data: Unknown<'_>) -> Result<CsvInput, Failure> {
        if let Some(source) = read_source(decoder, &data, Files::Refused)? {
            return Ok(CsvInput {
                source,
                options: Options::default(),
            });
        }
        let object = args::object(&data).ok_or_else(|| {
            Failure::invalid_type(format!(
                "parseCsv needs a string, Buffer or TypedArray, or {{ input, …options }}; got {}",
                describe(&data)
            ))
        })?;
        let source = match args::field(&object, "input")? {
            Some(input) => read_source(decoder, &input, Files::Read)?.ok_or_else(|| {
                Failure::invalid_type(format!(
                    "parseCsv input must be a string, Buffer, TypedArray or {{ path }}, got {}",
                    describe(&input)
                ))
            })?,
            None => return Err(Failure::invalid_type("parseCsv options need input")),
        };
        Ok(CsvInput {
            source,
            options: read_options(&object)?,
        })
    }

    fn run(input: CsvInput, ctx: &Context) -> Result<CsvOutput, Failure> {
        let text: Text = match input.source {
            CsvSource::Utf16(text) => text,
            CsvSource::Utf8(source) => utf8_to_utf16(
                &source.read(MAX_INPUT as u64, "parseCsv")?,
                ctx,
                BYTES_PER_PART,
            ),
        };
        if ctx.cancelled() {
            return Err(Failure::cancelled());
        }
        // Papa Parse strips a byte-order mark from string input.
        let text = text.strip_prefix(&[0xfeff]).unwrap_or(&text);
        // The layouts other than rows need every row before they can begin.
        let parse_whole = || {
            let results = papa::parse(text, &input.options, ctx).map_err(Failure::invalid_type)?;
            if ctx.cancelled() {
                return Err(Failure::cancelled());
            }
            Ok(results)
        };
        if input.options.layout == Layout::Json {
            let results = parse_whole()?;
            let json = json::result(&results, text.len())
                .map_err(|message| Failure::new(Kind::TaskFailed, message))?;
            return Ok(CsvOutput::Json(json));
        }
        if input.options.layout == Layout::Columns {
            let results = parse_whole()?;
            let Columns {
                fields,
                numeric,
                cells,
            } = cells::columns(&results, ctx);
            return Ok(CsvOutput::Cells {
                chunk: Chunk::new(cells, Some(fields)),
                numeric_columns: Some((numeric, results.data.len() as u32)),
                errors_and_meta: json::errors_and_meta_object(&results),
            });
        }
        // Rows go out a chunk at a time, so that JS builds one while the next is typed.
        let mut parsing = Parsing::new(text, &input.options, ctx).map_err(Failure::invalid_type)?;
        let mut shared = SharedTexts::default();
        // The header names cross once, with the first chunk.
        let mut fields = parsing.results.fields.clone();
        let total_rows = parsing.rows_left();
        loop {
            if ctx.cancelled() {
                return Err(Failure::cancelled());
            }
            let rows = parsing.next_rows(CHUNK_CELLS);
            ctx.progress(total_rows - parsing.rows_left(), total_rows);
            let cells = cells::cells(&rows, &mut shared);
            let chunk = Chunk::new(cells, fields.take());
            if parsing.rows_left() == 0 {
                return Ok(CsvOutput::Cells {
                    chunk,
                    numeric_columns: None,
                    errors_and_meta: json::errors_and_meta_object(&parsing.results),
                });
            }
            ctx.send(chunk);
        }
    }

    /// The last chunk's object, with `errorsAndMeta` and, for columns, `numericColumns`
    /// and `rowCount`: `lib/csv.js` finishes it into Papa Parse's result (or columns).
    /// JSON text goes as `{ json }`, a Buffer over the text without a copy.
    fn encode(env: &Env, output: CsvOutput) -> napi::Result<sys::napi_value> {
        let (chunk, numeric_columns, errors_and_meta) = match output {
            CsvOutput::Json(json) => {
                let mut object = Object::new(env)?;
                object.set("json", Buffer::from(json))?;
                return to_js(env, object);
            }
            CsvOutput::Cells {
                chunk,
                numeric_columns,
                errors_and_meta,
            } => (chunk, numeric_columns, errors_and_meta),
        };
        let mut object = chunk.into_object(env)?;
        if let Some((numeric, row_count)) = numeric_columns {
            object.set("rowCount", row_count)?;
            object.set(
                "numericColumns",
                numeric
                    .into_iter()
                    .map(|column| column.map(Float64Array::new))
                    .collect::<Vec<_>>(),
            )?;
        }
        object.set("errorsAndMeta", errors_and_meta)?;
        to_js(env, object)
    }
}

/// Whether a value may name a file. Only an options object's `input` may: a bare `{ path }`
/// could be an options object, whose options would then be lost.
enum Files {
    Read,
    Refused,
}

/// A string (copied as UTF-16, as JS holds it) or bytes (copied, or read in place when
/// handed over); None otherwise.
fn read_source(
    decoder: &mut Decoder,
    value: &Unknown<'_>,
    files: Files,
) -> Result<Option<CsvSource>, Failure> {
    if args::type_of(value) == ValueType::String {
        let text = args::utf16(value)?;
        if text.len() > MAX_INPUT {
            return Err(too_large(text.len()));
        }
        return Ok(Some(CsvSource::Utf16(text)));
    }
    let source = match files {
        Files::Read => Source::decode(decoder, value, "parseCsv input")?,
        Files::Refused => decoder.bytes(value)?.map(Source::Bytes),
    };
    match source {
        Some(Source::Bytes(bytes)) if bytes.as_slice().len() > MAX_INPUT => {
            Err(too_large(bytes.as_slice().len()))
        }
        Some(source) => Ok(Some(CsvSource::Utf8(source))),
        None => Ok(None),
    }
}

fn too_large(len: usize) -> Failure {
    Failure::new(
        Kind::InputTooLarge,
        format!("parseCsv takes at most {MAX_INPUT} bytes or characters, got {len}"),
    )
}

fn read_options(object: &Object<'_>) -> Result<Options, Failure> {
    for name in FUNCTION_OPTIONS {
        if args::field(object, name)?.is_some_and(|v| args::type_of(&v) == ValueType::Function) {
            return Err(Failure::invalid_type(format!(
                "parseCsv does not take Papa Parse's '{name}' option: functions cannot cross to a native thread"
            )));
        }
    }
    for name in UNSUPPORTED_WHEN_SET {
        if let Some(value) = args::field(object, name)? {
            if args::truthy(&value)? {
                return Err(Failure::invalid_type(format!(
                    "parseCsv does not support Papa Parse's '{name}' option"
                )));
            }
        }
    }
    let quote_char = single_char(object, "quoteChar")?;
    Ok(Options {
        layout: args::choice(
            object,
            "output",
            "parseCsv output",
            &[
                ("rows", Layout::Rows),
                ("columns", Layout::Columns),
                ("json", Layout::Json),
            ],
            Layout::Rows,
        )?,
        header: flag(object, "header")?,
        dynamic_typing: dynamic_typing(object)?,
        skip_empty_lines: skip_empty_lines(object)?,
        delimiter: optional_text(object, "delimiter")?.unwrap_or_default(),
        newline: optional_text(object, "newline")?,
        quote_char: quote_char.unwrap_or(Options::default().quote_char),
        escape_char: single_char(object, "escapeChar")?
            .or(quote_char)
            .unwrap_or(Options::default().escape_char),
        comments: match args::field(object, "comments")? {
            None => None,
            Some(value) if args::type_of(&value) == ValueType::String => Some(args::utf16(&value)?),
            Some(value) => args::truthy(&value)?.then(|| "#".encode_utf16().collect()),
        },
        preview: match args::field(object, "preview")? {
            None => 0,
            Some(value) => match args::number(&value) {
                Some(n) if n >= 0.0 && n.fract() == 0.0 => n as usize,
                _ => {
                    return Err(Failure::out_of_range(format!(
                        "preview must be an integer ≥ 0, got {}",
                        describe(&value)
                    )))
                }
            },
        },
        fast_mode: args::field(object, "fastMode")?
            .map(|v| args::truthy(&v))
            .transpose()?,
        delimiters_to_guess: delimiters_to_guess(object)?,
    })
}

fn dynamic_typing(object: &Object<'_>) -> Result<DynamicTyping, Failure> {
    let Some(value) = args::field(object, "dynamicTyping")? else {
        return Ok(DynamicTyping::Off);
    };
    match args::type_of(&value) {
        ValueType::Boolean if args::truthy(&value)? => Ok(DynamicTyping::All),
        ValueType::Boolean => Ok(DynamicTyping::Off),
        ValueType::Object => {
            let map = args::object(&value).expect("checked to be an object");
            let mut fields = HashMap::new();
            for key in Object::keys(&map)? {
                // Papa Parse types a field only when its entry is exactly `true`.
                let on = args::field(&map, &key)?
                    .map(|v| Ok::<_, Failure>(args::type_of(&v) == ValueType::Boolean && args::truthy(&v)?))
                    .transpose()?
                    .unwrap_or(false);
                fields.insert(key, on);
            }
            Ok(DynamicTyping::Fields(fields))
        }
        _ => Err(Failure::invalid_type(
            "dynamicTyping must be a boolean or an object of field names; functions cannot cross to a native thread",
        )),
    }
}

fn skip_empty_lines(object: &Object<'_>) -> Result<SkipEmptyLines, Failure> {
    Ok(match args::field(object, "skipEmptyLines")? {
        None => SkipEmptyLines::No,
        Some(value) if args::type_of(&value) == ValueType::String => {
            if args::string(&value, "skipEmptyLines")? == "greedy" {
                SkipEmptyLines::Greedy
            } else {
                SkipEmptyLines::Yes
            }
        }
        Some(value) if args::truthy(&value)? => SkipEmptyLines::Yes,
        Some(_) => SkipEmptyLines::No,
    })
}

fn delimiters_to_guess(object: &Object<'_>) -> Result<Option<Vec<Text>>, Failure> {
    let Some(list) = args::field(object, "delimitersToGuess")? else {
        return Ok(None);
    };
    let not_strings = || Failure::invalid_type("delimitersToGuess must be an array of strings");
    let list = args::object(&list).ok_or_else(not_strings)?;
    let length = args::field(&list, "length")?
        .and_then(|l| args::number(&l))
        .unwrap_or(0.0) as usize;
    (0..length)
        .map(|i| {
            let item = args::field(&list, &i.to_string())?.ok_or_else(not_strings)?;
            if args::type_of(&item) != ValueType::String {
                return Err(not_strings());
            }
            args::utf16(&item)
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn flag(object: &Object<'_>, name: &str) -> Result<bool, Failure> {
    args::field(object, name)?
        .map(|v| args::truthy(&v))
        .transpose()
        .map(|v| v.unwrap_or(false))
}

/// A string option; an empty string counts as absent, as in Papa Parse.
fn optional_text(object: &Object<'_>, name: &str) -> Result<Option<Text>, Failure> {
    match args::field(object, name)? {
        None => Ok(None),
        Some(value) if args::type_of(&value) == ValueType::String => {
            let text = args::utf16(&value)?;
            Ok((!text.is_empty()).then_some(text))
        }
        Some(value) => Err(Failure::invalid_type(format!(
            "{name} must be a string, got {}",
            describe(&value)
        ))),
    }
}

fn single_char(object: &Object<'_>, name: &str) -> Result<Option<u16>, Failure> {
    match optional_text(object, name)? {
        None => Ok(None),
        Some(text) if text.len() == 1 => Ok(Some(text[0])),
        Some(_) => Err(Failure::invalid_type(format!(
            "{name} must be a single character"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::testing::never_cancelled;

    #[test]
    fn utf16_in_parts_equals_the_whole_lossy_decoding() {
        let mut seed = 3u64;
        let mut byte = move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            // Mostly well-formed text, with stray continuation and lead bytes.
            let pick = (seed >> 40) as usize % 12;
            ["a", "é", "€", "😀", "\u{80}", ","][pick % 6]
                .as_bytes()
                .to_vec()
                .into_iter()
                .chain((pick >= 10).then_some([0x80u8, 0xe2, 0xf0][pick % 3]))
                .collect::<Vec<u8>>()
        };
        let bytes: Vec<u8> = (0..400).flat_map(|_| byte()).collect();
        let whole: Text = String::from_utf8_lossy(&bytes).encode_utf16().collect();
        for bytes_per_part in [1, 2, 3, 7, 50] {
            let parts = utf8_to_utf16(&bytes, &never_cancelled(), bytes_per_part);
            assert_eq!(parts, whole, "parts of {bytes_per_part} bytes");
        }
    }
}
