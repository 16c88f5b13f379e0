//! `resize`: decode (JPEG, PNG, WebP, GIF), turn upright per EXIF, resample, crop or embed,
//! encode (JPEG, PNG, WebP), with sharp's option names, defaults and output sizes.

mod bands;
mod exif;
mod geometry;
mod gif;
mod jpeg;
mod pixels;
mod png;
mod webp;

use super::files::{self, Source};
use super::{Context, Task};
use crate::error::{Failure, Kind};
use crate::js::{args, describe, to_js, Decoder};
use crate::pool::Ctx;
use geometry::{Canvas, Fit, Gravity, Target};
use napi::bindgen_prelude::{Buffer, Object, Unknown};
use napi::{sys, Env, ValueType};
use pixels::{Image, Kernel, Rgba};
use std::fmt::Display;
use std::path::PathBuf;

/// sharp's default `limitInputPixels` (0x3FFF × 0x3FFF).
const DEFAULT_PIXEL_LIMIT: u64 = 268_402_689;

/// The most pixels a resized image may have, whatever `limitInputPixels` says: a tiny input
/// with a huge target must not take the process's memory.
const MAX_PIXELS: u64 = DEFAULT_PIXEL_LIMIT;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Jpeg,
    Png,
    Webp,
    Gif,
}

impl Format {
    fn sniff(bytes: &[u8]) -> Option<Format> {
        match bytes {
            [0xFF, 0xD8, 0xFF, ..] => Some(Format::Jpeg),
            [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some(Format::Png),
            [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some(Format::Webp),
            [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some(Format::Gif),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Gif => "gif",
        }
    }
}

/// What a decoder learns before it decodes any pixel.
pub struct Header {
    width: u32,
    height: u32,
    /// EXIF orientation, 1..=8.
    orientation: u8,
}

/// A codec error as ERR_TASK_FAILED, naming the format.
fn failed<E: Display>(format: &'static str) -> impl Fn(E) -> Failure {
    move |error| Failure::new(Kind::TaskFailed, format!("{format}: {error}"))
}

/// Files read for resizing are refused past this size: no image within `limitInputPixels`
/// comes near it.
const MAX_FILE: u64 = 1 << 30;

pub struct ResizeInput {
    input: Source,
    /// `output: { path }`: the image is written there, and the task resolves with its info.
    output_path: Option<PathBuf>,
    target: Target,
    gravity: Gravity,
    kernel: Kernel,
    format: Option<Format>,
    quality: u8,
    background: Rgba,
    resolve_with_object: bool,
    /// None: no limit.
    pixel_limit: Option<u64>,
}

pub struct ResizeOutput {
    /// The encoded image; None once it went to a file.
    data: Option<Vec<u8>>,
    /// Bytes of the encoded image.
    size: usize,
    width: u32,
    height: u32,
    channels: u8,
    format: Format,
    resolve_with_object: bool,
}

pub struct Resize;

impl Task for Resize {
    const NAME: &'static str = "resize";
    type Input = ResizeInput;
    type Output = ResizeOutput;

    fn decode(decoder: &mut Decoder, data: Unknown<'_>) -> Result<ResizeInput, Failure> {
        let options = args::object(&data).ok_or_else(|| {
            Failure::invalid_type(format!(
                "resize needs {{ input, width, height, … }}; got {}",
                describe(&data)
            ))
        })?;
        let input = match args::field(&options, "input")? {
            Some(value) => Source::decode(decoder, &value, "resize input")?.ok_or_else(|| {
                Failure::invalid_type(format!(
                    "resize input must be a Buffer, TypedArray, ArrayBuffer or {{ path }}, got {}",
                    describe(&value)
                ))
            })?,
            None => {
                return Err(Failure::invalid_type(
                    "resize needs { input, width, height, … } with the image bytes as input",
                ))
            }
        };
        let target = target(&options)?;
        let output_path = match args::field(&options, "output")? {
            None => None,
            Some(value) => Some(args::file_path(&value, "resize output")?.ok_or_else(|| {
                Failure::invalid_type(format!(
                    "resize output must be {{ path }}, got {}",
                    describe(&value)
                ))
            })?),
        };
        Ok(ResizeInput {
            input,
            output_path,
            target,
            gravity: gravity(&options)?,
            kernel: kernel(&options)?,
            format: output_format(&options)?,
            quality: args::integer(&options, "quality", "resize quality", 1.0, 100.0)?
                .map_or(80, |q| q as u8),
            background: background(&options)?,
            resolve_with_object: args::boolean(
                &options,
                "resolveWithObject",
                "resize resolveWithObject",
                false,
            )?,
            pixel_limit: pixel_limit(&options)?,
        })
    }

    fn run(input: ResizeInput, ctx: &Context) -> Result<ResizeOutput, Failure> {
        let mut output = resize(&input, ctx)?;
        if let Some(path) = &input.output_path {
            let data = output.data.take().unwrap_or_default();
            files::write(path, &data)?;
        }
        Ok(output)
    }

    /// A Buffer, or `{ data, info: { width, height, format, size, channels } }`; the info
    /// alone when the image went to a file.
    fn encode(env: &Env, output: ResizeOutput) -> napi::Result<sys::napi_value> {
        let mut info = Object::new(env)?;
        info.set("width", output.width)?;
        info.set("height", output.height)?;
        info.set("format", output.format.name())?;
        info.set("size", output.size as u32)?;
        info.set("channels", u32::from(output.channels))?;
        let Some(data) = output.data else {
            return to_js(env, info);
        };
        let data = Buffer::from(data);
        if !output.resolve_with_object {
            return to_js(env, data);
        }
        let mut result = Object::new(env)?;
        result.set("data", data)?;
        result.set("info", info)?;
        to_js(env, result)
    }
}

/// The resized image, encoded: a plan made from the header, then one pipeline per path.
fn resize(input: &ResizeInput, ctx: &Context) -> Result<ResizeOutput, Failure> {
    let bytes = &*input.input.read(MAX_FILE, "resize")?;
    let plan = Plan::new(input, bytes)?;
    if plan.format == Format::Jpeg && plan.output_format == Format::Jpeg {
        if let Some(output) = plan.jpeg_planes(bytes, ctx)? {
            return Ok(output);
        }
    }
    let image = match plan.format {
        Format::Png => match plan.png_streamed(bytes, ctx)? {
            Ok(image) => image,
            Err(encoded) => return Ok(encoded),
        },
        _ => plan.decode_and_resample(bytes, ctx)?,
    };
    plan.arrange_and_encode(image, ctx)
}

/// A resize as its header decides it, before any pixel is decoded: every decoder gives a
/// size known from the header (JPEG and WebP shrink on load), so the size limit is checked
/// here too.
struct Plan {
    format: Format,
    output_format: Format,
    /// JPEG's shrink on load: 1, 2, 4 or 8.
    shrink: u32,
    /// The size the decoder gives, as stored (maybe sideways).
    decoded: (u32, u32),
    steps: Steps,
    quality: u8,
    resolve_with_object: bool,
}

impl Plan {
    fn new(input: &ResizeInput, bytes: &[u8]) -> Result<Plan, Failure> {
        let format = Format::sniff(bytes).ok_or_else(|| {
            Failure::new(
                Kind::TaskFailed,
                "the input is not a JPEG, PNG, WebP or GIF image",
            )
        })?;
        let header = match format {
            Format::Jpeg => jpeg::header(bytes),
            Format::Png => png::header(bytes),
            Format::Webp => webp::header(bytes),
            Format::Gif => gif::header(bytes),
        }?;
        let pixels = u64::from(header.width) * u64::from(header.height);
        if let Some(limit) = input.pixel_limit.filter(|&limit| pixels > limit) {
            return Err(Failure::new(
                Kind::InputTooLarge,
                format!(
                    "the image is {}×{} = {pixels} pixels, over limitInputPixels ({limit})",
                    header.width, header.height
                ),
            ));
        }
        // Resizing happens before the turn upright, so a sideways image swaps its target.
        let stored_target = if header.orientation >= 5 {
            input.target.turned()
        } else {
            input.target
        };
        let shrink = stored_target.jpeg_shrink_on_load(header.width, header.height);
        let decoded = match format {
            Format::Jpeg => jpeg::decoded_size(header.width, header.height, shrink),
            Format::Webp => stored_target.webp_size_on_load(header.width, header.height),
            Format::Png | Format::Gif => (header.width, header.height),
        };
        Ok(Plan {
            format,
            output_format: input.format.unwrap_or(match format {
                Format::Gif => Format::Png,
                other => other,
            }),
            shrink,
            decoded,
            steps: Steps::plan(input, &stored_target, &header, decoded)?,
            quality: input.quality,
            resolve_with_object: input.resolve_with_object,
        })
    }

    fn output(&self, data: Vec<u8>, (width, height): (u32, u32), channels: u8) -> ResizeOutput {
        ResizeOutput {
            size: data.len(),
            data: Some(data),
            width,
            height,
            channels,
            format: self.output_format,
            resolve_with_object: self.resolve_with_object,
        }
    }

    /// JPEG to JPEG on the YCbCr planes as stored, when that gives the same image (see
    /// `Steps::halved`): no colour conversion either way, chroma resampled at half size.
    /// None when it does not.
    fn jpeg_planes(&self, bytes: &[u8], ctx: &Context) -> Result<Option<ResizeOutput>, Failure> {
        let Some(chroma) = self.steps.halved() else {
            return Ok(None);
        };
        let Some(planes) = jpeg::decode_planes(bytes, self.shrink)? else {
            return Ok(None);
        };
        check(ctx)?;
        ctx.progress(1, 3);
        let planes = jpeg::Planes {
            luma: self.steps.apply(planes.luma, ctx)?,
            blue: chroma.apply(planes.blue, ctx)?,
            red: chroma.apply(planes.red, ctx)?,
        };
        ctx.progress(2, 3);
        let size = (planes.luma.width, planes.luma.height);
        let data = jpeg::encode_planes(planes, self.quality)?;
        Ok(Some(self.output(data, size, 3)))
    }

    /// A PNG resampled as it is decoded: the resampled image, or (Err) the finished output
    /// when it was compressed band by band, with nothing to do between.
    fn png_streamed(
        &self,
        bytes: &[u8],
        ctx: &Context,
    ) -> Result<Result<Image, ResizeOutput>, Failure> {
        let as_png = self.output_format == Format::Png && self.steps.leaves_as_resampled();
        let resized = png::decode_resized(bytes, self.steps.size, self.steps.kernel, as_png, ctx)?;
        Ok(match resized.png {
            Some(data) => {
                let image = resized.image;
                Err(self.output(data, (image.width, image.height), image.channels))
            }
            None => Ok(resized.image),
        })
    }

    /// A JPEG, WebP or GIF decoded whole (JPEG and WebP at their size on load), then
    /// resampled.
    fn decode_and_resample(&self, bytes: &[u8], ctx: &Context) -> Result<Image, Failure> {
        let image = match self.format {
            Format::Jpeg => jpeg::decode(bytes, self.shrink),
            Format::Webp => webp::decode(bytes, self.decoded),
            _ => gif::decode(bytes),
        }?;
        check(ctx)?;
        ctx.progress(1, 3);
        let (width, height) = self.steps.size;
        image.resize(width, height, self.steps.kernel, ctx)
    }

    /// The resampled image turned upright, cropped or embedded, and encoded.
    fn arrange_and_encode(&self, image: Image, ctx: &Context) -> Result<ResizeOutput, Failure> {
        let image = self.steps.arrange(image, ctx)?;
        ctx.progress(2, 3);
        let channels = match self.output_format {
            Format::Jpeg => image.channels - u8::from(image.has_alpha()),
            Format::Webp => 3 + u8::from(image.has_alpha()),
            _ => image.channels,
        };
        let size = (image.width, image.height);
        let data = match self.output_format {
            Format::Jpeg => jpeg::encode(image, self.quality),
            Format::Webp => webp::encode(image, self.quality),
            _ => png::encode(image, ctx),
        }?;
        Ok(self.output(data, size, channels))
    }
}

/// What happens to decoded pixels: resample to `size`, turn upright, crop or embed.
struct Steps {
    size: (u32, u32),
    kernel: Kernel,
    orientation: u8,
    canvas: Canvas,
    background: Rgba,
}

impl Steps {
    /// The steps for an image decoded at `width` × `height` (as stored, maybe sideways),
    /// from sharp's geometry.
    /// ERR_INPUT_TOO_LARGE when the resampled image or its canvas would pass `MAX_PIXELS`.
    fn plan(
        input: &ResizeInput,
        stored_target: &Target,
        header: &Header,
        (width, height): (u32, u32),
    ) -> Result<Steps, Failure> {
        let shrink = stored_target.shrink(width, height);
        let size = geometry::resized(width, height, shrink, input.kernel == Kernel::Nearest);
        let (upright_width, upright_height) = if header.orientation >= 5 {
            (size.1, size.0)
        } else {
            size
        };
        let canvas = geometry::canvas(&input.target, input.gravity, upright_width, upright_height);
        let largest = match canvas {
            Canvas::Embed { width, height, .. } => (width, height),
            Canvas::Keep | Canvas::Crop { .. } => size,
        };
        for (width, height) in [size, largest] {
            if u64::from(width) * u64::from(height) > MAX_PIXELS {
                return Err(Failure::new(
                    Kind::InputTooLarge,
                    format!("the image would be resized to {width}×{height} pixels, over the limit of {MAX_PIXELS}"),
                ));
            }
        }
        Ok(Steps {
            size,
            kernel: input.kernel,
            orientation: header.orientation,
            canvas,
            background: input.background,
        })
    }

    /// The same steps for a 4:2:0 chroma plane, where they give what the RGB pipeline would:
    /// a filter (nearest would pick other samples than sharp), no turn, and no padding or
    /// odd crop offset.
    fn halved(&self) -> Option<Steps> {
        if self.kernel == Kernel::Nearest || self.orientation != 1 {
            return None;
        }
        Some(Steps {
            size: jpeg::chroma_size(self.size.0, self.size.1),
            canvas: self.canvas.halved()?,
            ..*self
        })
    }

    fn apply(&self, image: Image, ctx: &Ctx) -> Result<Image, Failure> {
        let image = image.resize(self.size.0, self.size.1, self.kernel, ctx)?;
        self.arrange(image, ctx)
    }

    /// Whether the steps after resampling change nothing.
    fn leaves_as_resampled(&self) -> bool {
        self.orientation == 1 && matches!(self.canvas, Canvas::Keep)
    }

    /// The steps after resampling: turn upright, then crop or embed.
    fn arrange(&self, image: Image, ctx: &Ctx) -> Result<Image, Failure> {
        check(ctx)?;
        let image = image.orient(self.orientation);
        Ok(match self.canvas {
            Canvas::Keep => image,
            Canvas::Crop {
                left,
                top,
                width,
                height,
            } => image.crop(left, top, width, height),
            Canvas::Embed {
                left,
                top,
                width,
                height,
            } => image.embed(left, top, width, height, self.background),
        })
    }
}

fn check(ctx: &Ctx) -> Result<(), Failure> {
    if ctx.cancelled() {
        Err(Failure::cancelled())
    } else {
        Ok(())
    }
}

/// `width`, `height`, `fit`, `withoutEnlargement` and `withoutReduction`.
fn target(options: &Object<'_>) -> Result<Target, Failure> {
    let side = |name| {
        args::integer(options, name, &format!("resize {name}"), 1.0, 65_535.0)
            .map(|n| n.map(|n| n as u32))
    };
    Ok(Target {
        width: side("width")?,
        height: side("height")?,
        fit: args::choice(
            options,
            "fit",
            "resize fit",
            &[
                ("cover", Fit::Cover),
                ("contain", Fit::Contain),
                ("fill", Fit::Fill),
                ("inside", Fit::Inside),
                ("outside", Fit::Outside),
            ],
            Fit::Cover,
        )?,
        without_enlargement: args::boolean(
            options,
            "withoutEnlargement",
            "resize withoutEnlargement",
            false,
        )?,
        without_reduction: args::boolean(
            options,
            "withoutReduction",
            "resize withoutReduction",
            false,
        )?,
    })
}

fn kernel(options: &Object<'_>) -> Result<Kernel, Failure> {
    args::choice(
        options,
        "kernel",
        "resize kernel",
        &[
            ("nearest", Kernel::Nearest),
            ("linear", Kernel::Linear),
            ("cubic", Kernel::Cubic),
            ("mitchell", Kernel::Mitchell),
            ("lanczos2", Kernel::Lanczos2),
            ("lanczos3", Kernel::Lanczos3),
        ],
        Kernel::Lanczos3,
    )
}

/// `format`: None keeps the input's (PNG for GIF).
fn output_format(options: &Object<'_>) -> Result<Option<Format>, Failure> {
    args::choice(
        options,
        "format",
        "resize format",
        &[
            ("jpeg", Some(Format::Jpeg)),
            ("jpg", Some(Format::Jpeg)),
            ("png", Some(Format::Png)),
            ("webp", Some(Format::Webp)),
        ],
        None,
    )
}

/// `position`: sharp's gravity or position names, or its numbers 0..=8.
fn gravity(options: &Object<'_>) -> Result<Gravity, Failure> {
    const NAMES: [(&str, u8); 18] = [
        ("centre", 0),
        ("center", 0),
        ("north", 1),
        ("east", 2),
        ("south", 3),
        ("west", 4),
        ("northeast", 5),
        ("southeast", 6),
        ("southwest", 7),
        ("northwest", 8),
        ("top", 1),
        ("right", 2),
        ("bottom", 3),
        ("left", 4),
        ("right top", 5),
        ("right bottom", 6),
        ("left bottom", 7),
        ("left top", 8),
    ];
    match args::field(options, "position")? {
        Some(value) if args::type_of(&value) == ValueType::Number => {
            args::integer(options, "position", "resize position", 0.0, 8.0)
                .map(|n| Gravity(n.unwrap_or(0.0) as u8))
        }
        Some(value)
            if matches!(
                args::string(&value, "").as_deref(),
                Ok("entropy" | "attention")
            ) =>
        {
            Err(Failure::invalid_type(
                "resize position 'entropy' and 'attention' (smart crops) are not supported",
            ))
        }
        _ => args::choice(options, "position", "resize position", &NAMES, 0).map(Gravity),
    }
}

/// `background`: `{ r, g, b, alpha }` (alpha 0..1, default 1) or a hex string (`#rgb`,
/// `#rgba`, `#rrggbb`, `#rrggbbaa`); opaque black by default, as in sharp.
fn background(options: &Object<'_>) -> Result<Rgba, Failure> {
    let Some(value) = args::field(options, "background")? else {
        return Ok([0, 0, 0, 255]);
    };
    if let Some(colour) = args::object(&value) {
        let channel = |name, max: f64| -> Result<f64, Failure> {
            Ok(match args::field(&colour, name)? {
                None => max,
                Some(v) => args::number(&v)
                    .filter(|n| (0.0..=max).contains(n))
                    .ok_or_else(|| {
                        Failure::out_of_range(format!(
                            "resize background.{name} must be a number from 0 to {max}"
                        ))
                    })?,
            })
        };
        let [r, g, b] = ["r", "g", "b"].map(|name| channel(name, 255.0));
        return Ok([
            r?.round() as u8,
            g?.round() as u8,
            b?.round() as u8,
            (channel("alpha", 1.0)? * 255.0).round() as u8,
        ]);
    }
    let text = args::string(&value, "resize background")?;
    hex_colour(&text).ok_or_else(|| {
        Failure::invalid_type(format!(
            "resize background must be {{ r, g, b, alpha }} or a hex colour such as '#ff8800', got '{text}'"
        ))
    })
}

fn hex_colour(text: &str) -> Option<Rgba> {
    let digits = text.strip_prefix('#')?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let nibble = |i: usize| u8::from_str_radix(&digits[i..=i], 16).ok();
    let byte = |i: usize| u8::from_str_radix(&digits[i..i + 2], 16).ok();
    match digits.len() {
        3 | 4 => {
            let mut rgba = [255; 4];
            for (i, channel) in rgba.iter_mut().enumerate().take(digits.len()) {
                *channel = nibble(i)? * 17;
            }
            Some(rgba)
        }
        6 | 8 => {
            let mut rgba = [255; 4];
            for (i, channel) in rgba.iter_mut().enumerate().take(digits.len() / 2) {
                *channel = byte(i * 2)?;
            }
            Some(rgba)
        }
        _ => None,
    }
}

/// `limitInputPixels`: a pixel count (0 or false: none; true: sharp's default).
fn pixel_limit(options: &Object<'_>) -> Result<Option<u64>, Failure> {
    let Some(value) = args::field(options, "limitInputPixels")? else {
        return Ok(Some(DEFAULT_PIXEL_LIMIT));
    };
    if args::type_of(&value) == ValueType::Boolean {
        let on = args::boolean(options, "limitInputPixels", "", true)?;
        return Ok(on.then_some(DEFAULT_PIXEL_LIMIT));
    }
    let limit = args::integer(
        options,
        "limitInputPixels",
        "resize limitInputPixels",
        0.0,
        9_007_199_254_740_991.0,
    )?
    .unwrap_or(0.0) as u64;
    Ok((limit > 0).then_some(limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_their_magic_bytes() {
        assert_eq!(Format::sniff(b"\xFF\xD8\xFF\xE0"), Some(Format::Jpeg));
        assert_eq!(Format::sniff(b"\x89PNG\r\n\x1a\n...."), Some(Format::Png));
        assert_eq!(Format::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(Format::Webp));
        assert_eq!(Format::sniff(b"GIF89a"), Some(Format::Gif));
        assert_eq!(Format::sniff(b"RIFF\0\0\0\0WAVE"), None);
        assert_eq!(Format::sniff(b""), None);
    }

    #[test]
    fn hex_colours_in_every_length() {
        assert_eq!(hex_colour("#f80"), Some([255, 136, 0, 255]));
        assert_eq!(hex_colour("#f808"), Some([255, 136, 0, 136]));
        assert_eq!(hex_colour("#102030"), Some([16, 32, 48, 255]));
        assert_eq!(hex_colour("#10203040"), Some([16, 32, 48, 64]));
        assert_eq!(hex_colour("#12345"), None);
        assert_eq!(hex_colour("red"), None);
        assert_eq!(hex_colour("#ggg"), None);
    }
}
