//! PNG: any bit depth, palette and transparency, read as 8-bit grey / grey + alpha / RGB /
//! RGBA; written with sharp's defaults (zlib level 6, no adaptive filtering).

use super::bands::{ArrivingRows, BandPart, Bands};
use super::pixels::{Image, Kernel};
use super::{exif, failed, Header};
use crate::error::Failure;
use crate::pool::Ctx;
use flate2::{Compress, FlushCompress, Status};
use png::{BitDepth, ColorType, Decoder, Transformations};
use std::io::Cursor;

fn reader(bytes: &[u8]) -> Result<png::Reader<Cursor<&[u8]>>, Failure> {
    let mut decoder = Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(Transformations::normalize_to_color8());
    decoder.set_ignore_text_chunk(true);
    // The pixel limit is checked from the header before any pixel is decoded; this only
    // bounds what the decoder may allocate besides the image itself.
    decoder.set_limits(png::Limits { bytes: usize::MAX });
    decoder.read_info().map_err(failed("PNG"))
}

/// Size and orientation, from the chunks before the image data (eXIf may sit anywhere there).
pub fn header(bytes: &[u8]) -> Result<Header, Failure> {
    let reader = reader(bytes)?;
    let info = reader.info();
    Ok(Header {
        width: info.width,
        height: info.height,
        orientation: info.exif_metadata.as_deref().map_or(1, exif::orientation),
    })
}

/// Rows decoded between two looks at cancellation (and, while resampling as they arrive,
/// between two hand-overs to the bands).
const ROWS_PER_CHECK: usize = 64;

/// A PNG being decoded: its size and sample layout known from its header, its pixels read
/// in order.
struct Rows<'b> {
    reader: png::Reader<Cursor<&'b [u8]>>,
    width: u32,
    height: u32,
    channels: u8,
    /// Bytes per decoded row.
    line: usize,
    interlaced: bool,
}

impl<'b> Rows<'b> {
    fn new(bytes: &'b [u8]) -> Result<Self, Failure> {
        let reader = reader(bytes)?;
        let too_large = || failed("PNG")("the image is too large for this machine's memory");
        let (width, height) = (reader.info().width, reader.info().height);
        let line = reader.output_line_size(width).ok_or_else(too_large)?;
        reader.output_buffer_size().ok_or_else(too_large)?;
        let channels = match reader.output_color_type().0 {
            ColorType::Grayscale => 1,
            ColorType::GrayscaleAlpha => 2,
            ColorType::Rgb => 3,
            _ => 4,
        };
        let interlaced = reader.info().interlaced;
        Ok(Rows {
            reader,
            width,
            height,
            channels,
            line,
            interlaced,
        })
    }

    fn image_len(&self) -> usize {
        self.line * self.height as usize
    }

    /// Reads the next whole rows into `rows` (not for an interlaced image).
    fn read(&mut self, rows: &mut [u8]) -> Result<(), Failure> {
        for row in rows.chunks_exact_mut(self.line) {
            self.reader.read_row(row).map_err(failed("PNG"))?;
        }
        Ok(())
    }

    /// Reads every row into `pixels`, stopping once `cancelled`.
    fn read_all(mut self, pixels: &mut [u8], cancelled: impl Fn() -> bool) -> Result<(), Failure> {
        if self.interlaced {
            return self
                .reader
                .next_frame(pixels)
                .map(drop)
                .map_err(failed("PNG"));
        }
        for rows in pixels.chunks_mut(self.line * ROWS_PER_CHECK) {
            if cancelled() {
                return Err(Failure::cancelled());
            }
            self.read(rows)?;
        }
        self.reader.finish().map_err(failed("PNG"))
    }
}

/// Decoded in full; a plain (not interlaced) image row by row, stopping once `cancelled`.
pub fn decode(bytes: &[u8], cancelled: impl Fn() -> bool) -> Result<Image, Failure> {
    let rows = Rows::new(bytes)?;
    let (width, height, channels) = (rows.width, rows.height, rows.channels);
    let mut pixels = vec![0; rows.image_len()];
    rows.read_all(&mut pixels, cancelled)?;
    Ok(Image::new(width, height, channels, pixels))
}

/// A decoded, resampled image; and, when asked for, already compressed as a PNG.
pub struct Resized {
    pub image: Image,
    pub png: Option<Vec<u8>>,
}

/// Decoded and resampled to `size` with `kernel`. A large plain image is resampled in
/// bands (`Bands`) while it is decoded: one part decodes, and free threads resample each
/// band as soon as the rows under it have arrived, and compress it too if `as_png` (so that
/// most of the work is done by the time the last row is).
pub fn decode_resized(
    bytes: &[u8],
    size: (u32, u32),
    kernel: Kernel,
    as_png: bool,
    ctx: &Ctx,
) -> Result<Resized, Failure> {
    let rows = Rows::new(bytes)?;
    let bands = Bands::new((rows.width, rows.height), size, rows.channels, kernel);
    decode_resized_in(bytes, rows, bands, size, kernel, as_png, ctx)
}

/// `decode_resized`, cut into these bands, if any.
fn decode_resized_in(
    bytes: &[u8],
    rows: Rows,
    bands: Option<Bands>,
    size: (u32, u32),
    kernel: Kernel,
    as_png: bool,
    ctx: &Ctx,
) -> Result<Resized, Failure> {
    let Some(bands) = bands.filter(|_| !rows.interlaced) else {
        let image = decode(bytes, || ctx.cancelled())?;
        let image = image.resize(size.0, size.1, kernel, ctx)?;
        return Ok(Resized { image, png: None });
    };
    let mut pixels = vec![0; rows.image_len()];
    let arriving = ArrivingRows::new(&mut pixels, rows.line);
    let mut target = bands.target_image();
    let row_len = target.row_len();
    let mut parts: Vec<Pipeline> = vec![Pipeline::Decode(Some(Box::new(rows)), Ok(()))];
    let band_parts = bands.parts(&mut target);
    let last = band_parts.len() - 1;
    parts.extend(
        band_parts
            .into_iter()
            .map(|band| Pipeline::Band(band, Vec::new())),
    );
    ctx.for_each(&mut parts, |part| match part {
        Pipeline::Decode(rows, result) => {
            let rows = rows.take().expect("the decode part runs once");
            *result = decode_arriving(*rows, &arriving, &bands, ctx);
        }
        Pipeline::Band((k, target, result), deflated) => {
            // Without the rows, the decode part says why.
            if let Some(source) = arriving.wait_for(bands.source_rows(*k)) {
                *result = bands.resample(*k, source, target);
                if as_png && result.is_ok() {
                    *deflated = deflate_rows(target, row_len, *k == last);
                }
            }
        }
    });
    let mut band_parts = Vec::with_capacity(parts.len());
    let mut deflated = Vec::with_capacity(parts.len());
    for part in parts {
        match part {
            Pipeline::Decode(_, result) => result?,
            Pipeline::Band(band, band_deflated) => {
                band_parts.push(band);
                deflated.push(band_deflated);
            }
        }
    }
    bands.finish(band_parts, ctx)?;
    let png = match as_png {
        true => Some(assemble(&target, deflated.iter().map(Vec::as_slice))?),
        false => None,
    };
    Ok(Resized { image: target, png })
}

/// The parts of decoding while resampling: the decoding first, then every band (with its
/// deflate, when compressed as it is made).
enum Pipeline<'b, 't> {
    Decode(Option<Box<Rows<'b>>>, Result<(), Failure>),
    Band(BandPart<'t>, Vec<u8>),
}

/// Decodes into `arriving` a block of rows at a time, premultiplying alpha for the bands,
/// and hands each block over; ends the rows however it ends, so that no band waits on.
fn decode_arriving(
    mut rows: Rows,
    arriving: &ArrivingRows,
    bands: &Bands,
    ctx: &Ctx,
) -> Result<(), Failure> {
    let _ends = arriving.end_on_drop();
    let height = rows.height as usize;
    let mut next = 0;
    while next < height {
        if ctx.cancelled() {
            return Err(Failure::cancelled());
        }
        let count = ROWS_PER_CHECK.min(height - next);
        // SAFETY: this part is the only one that writes, and rows from `next` on have not
        // been handed over.
        let block = unsafe { arriving.rows_mut(next, count) };
        rows.read(block)?;
        bands.premultiply(block);
        next += count;
        arriving.hand_over(next);
    }
    rows.reader.finish().map_err(failed("PNG"))
}

/// PNG, as sharp writes it: zlib level 6, no filter. Past two parts' worth of rows, the
/// rows are compressed in parts on free threads, each part a run of deflate blocks that
/// ends on a byte (a sync flush), so that the parts follow one another in one zlib stream;
/// each part starts with an empty window, which costs a fraction of a percent in size.
pub fn encode(image: Image, ctx: &Ctx) -> Result<Vec<u8>, Failure> {
    encode_in_parts_of(image, ctx, BYTES_PER_PART)
}

/// Rows compressed per part: a few milliseconds of deflate.
const BYTES_PER_PART: usize = 1 << 20;
/// zlib's header for deflate with a 32 KiB window at the default level.
const ZLIB_HEADER: [u8; 2] = [0x78, 0x9c];

fn encode_in_parts_of(image: Image, ctx: &Ctx, bytes_per_part: usize) -> Result<Vec<u8>, Failure> {
    if image.pixels.len() < 2 * bytes_per_part {
        let mut out = Vec::new();
        let mut writer = header_writer(&mut out, &image)?;
        writer
            .write_image_data(&image.pixels)
            .and_then(|()| writer.finish())
            .map_err(failed("PNG"))?;
        return Ok(out);
    }
    let rows_per_part = (bytes_per_part / (image.row_len() + 1)).max(1);
    let chunks = image.pixels.chunks(rows_per_part * image.row_len());
    let count = chunks.len();
    // (the rows, whether they are the last, their deflate)
    let mut parts: Vec<(&[u8], bool, Vec<u8>)> = chunks
        .enumerate()
        .map(|(k, rows)| (rows, k + 1 == count, Vec::new()))
        .collect();
    ctx.for_each(&mut parts, |(rows, last, deflated)| {
        *deflated = deflate_rows(rows, image.row_len(), *last)
    });
    if ctx.cancelled() {
        return Err(Failure::cancelled());
    }
    assemble(&image, parts.iter().map(|(_, _, deflated)| &deflated[..]))
}

/// The PNG's signature and header chunk, written by the png crate.
fn header_writer<'o>(
    out: &'o mut Vec<u8>,
    image: &Image,
) -> Result<png::Writer<&'o mut Vec<u8>>, Failure> {
    let mut encoder = png::Encoder::new(out, image.width, image.height);
    encoder.set_color(match image.channels {
        1 => ColorType::Grayscale,
        2 => ColorType::GrayscaleAlpha,
        3 => ColorType::Rgb,
        _ => ColorType::Rgba,
    });
    encoder.set_depth(BitDepth::Eight);
    encoder.set_compression(png::Compression::Balanced);
    encoder.set_filter(png::Filter::NoFilter);
    encoder.write_header().map_err(failed("PNG"))
}

/// The PNG of `image` from the deflate of its rows, in parts made by `deflate_rows` (the last
/// one last): one zlib stream, checksummed over the rows as PNG stores them.
fn assemble<'d>(
    image: &Image,
    deflated: impl Iterator<Item = &'d [u8]> + Clone,
) -> Result<Vec<u8>, Failure> {
    let size = ZLIB_HEADER.len() + deflated.clone().map(<[u8]>::len).sum::<usize>() + 4;
    let mut zlib = Vec::with_capacity(size);
    zlib.extend_from_slice(&ZLIB_HEADER);
    deflated.for_each(|part| zlib.extend_from_slice(part));
    let mut adler = simd_adler32::Adler32::new();
    for row in image.pixels.chunks_exact(image.row_len()) {
        adler.write(&[NO_FILTER]);
        adler.write(row);
    }
    zlib.extend_from_slice(&adler.finish().to_be_bytes());
    let mut out = Vec::with_capacity(zlib.len() + 64);
    let mut writer = header_writer(&mut out, image)?;
    writer
        .write_chunk(png::chunk::IDAT, &zlib)
        .and_then(|()| writer.finish())
        .map_err(failed("PNG"))?;
    Ok(out)
}

/// PNG's filter type byte for a row stored as it is.
const NO_FILTER: u8 = 0;

/// Raw deflate of whole rows as PNG stores them (each after its filter type), ended by a
/// sync flush so that the next part's deflate can follow, or by the final block if `last`.
fn deflate_rows(rows: &[u8], row_len: usize, last: bool) -> Vec<u8> {
    let mut filtered = Vec::with_capacity(rows.len() + rows.len() / row_len);
    for row in rows.chunks_exact(row_len) {
        filtered.push(NO_FILTER);
        filtered.extend_from_slice(row);
    }
    deflate(&filtered, last)
}

/// Raw deflate of `data` at level 6, ended by a sync flush, or by the final block if `last`.
fn deflate(data: &[u8], last: bool) -> Vec<u8> {
    let mut compress = Compress::new(flate2::Compression::new(6), false);
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    loop {
        let read = compress.total_in() as usize;
        let status = compress
            .compress_vec(&data[read..], &mut out, flush)
            .expect("deflate takes any bytes");
        // Done once all is read and the flush left room to spare in the output.
        let flushed = compress.total_in() as usize == data.len() && out.len() < out.capacity();
        if status == Status::StreamEnd || (!last && flushed) {
            return out;
        }
        out.reserve(out.capacity());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::testing::never_cancelled;

    #[test]
    fn resampling_as_rows_arrive_equals_resampling_the_decoded_image() {
        for channels in [3u8, 4] {
            let (width, height) = (1100u32, 1000u32);
            let pixels: Vec<u8> = (0..width * height * u32::from(channels))
                .map(|i| (((i / 3) % 251) ^ (i / 4111)) as u8)
                .collect();
            let png = encode(
                Image::new(width, height, channels, pixels),
                &never_cancelled(),
            )
            .unwrap();
            let ctx = never_cancelled();
            // Bands of 40 source rows, as much larger images have.
            let source = (width, height);
            let bands = || {
                let band_pixels = f64::from(width) * 40.0;
                Bands::reading(band_pixels, source, (300, 250), channels, Kernel::Lanczos3)
            };
            let rows = Rows::new(&png).unwrap();
            let arriving = decode_resized_in(
                &png,
                rows,
                bands(),
                (300, 250),
                Kernel::Lanczos3,
                true,
                &ctx,
            )
            .unwrap();
            // The same bands over the decoded image.
            let whole = bands()
                .unwrap()
                .resample_image(decode(&png, || false).unwrap(), &ctx)
                .unwrap();
            assert!(arriving.image == whole, "{channels} channels");
            // Compressed band by band: one valid PNG of the same pixels.
            let compressed = arriving.png.unwrap();
            assert!(
                decode(&compressed, || false).unwrap() == whole,
                "{channels} channels"
            );
        }
    }

    #[test]
    fn rows_compressed_in_parts_make_one_valid_png() {
        for channels in [1u8, 3, 4] {
            let (width, height) = (37u32, 91u32);
            let pixels: Vec<u8> = (0..width * height * u32::from(channels))
                .map(|i| (i * 7 % 251) as u8)
                .collect();
            let image = Image::new(width, height, channels, pixels);
            for bytes_per_part in [1, 100, 1000, 4000] {
                let png =
                    encode_in_parts_of(image.clone(), &never_cancelled(), bytes_per_part).unwrap();
                assert_eq!(
                    decode(&png, || false).unwrap(),
                    image,
                    "parts of {bytes_per_part}"
                );
            }
        }
    }

    #[test]
    fn round_trips_every_channel_count() {
        for channels in 1..=4u8 {
            let pixels: Vec<u8> = (0..30 * 20 * u32::from(channels))
                .map(|i| i as u8)
                .collect();
            let image = Image::new(30, 20, channels, pixels);
            let png = encode(image.clone(), &never_cancelled()).unwrap();
            let header = header(&png).unwrap();
            assert_eq!(
                (header.width, header.height, header.orientation),
                (30, 20, 1)
            );
            assert_eq!(decode(&png, || false).unwrap(), image);
        }
    }

    #[test]
    fn decoding_stops_when_cancelled() {
        let png = encode(Image::new(8, 300, 1, vec![1; 2400]), &never_cancelled()).unwrap();
        let failure = decode(&png, || true).unwrap_err();
        assert_eq!(failure.kind, crate::error::Kind::Aborted);
    }

    #[test]
    fn truncated_files_are_errors() {
        let png = encode(
            Image::new(64, 64, 3, vec![7; 64 * 64 * 3]),
            &never_cancelled(),
        )
        .unwrap();
        for end in [0, 8, 20, 33, png.len() - 20] {
            assert!(decode(&png[..end], || false).is_err(), "cut at {end}");
        }
    }
}
