//! PNG: any bit depth, palette and transparency, read as 8-bit grey / grey + alpha / RGB /
//! RGBA; written with sharp's defaults (zlib level 6, no adaptive filtering).

use super::pixels::Image;
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

/// Rows decoded between two looks at cancellation.
const ROWS_PER_CHECK: usize = 64;

/// Decoded in full; a plain (not interlaced) image row by row, stopping once `cancelled`.
pub fn decode(bytes: &[u8], cancelled: impl Fn() -> bool) -> Result<Image, Failure> {
    let mut reader = reader(bytes)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| failed("PNG")("the image is too large for this machine's memory"))?;
    let (width, height) = (reader.info().width, reader.info().height);
    let (color_type, _) = reader.output_color_type();
    let mut pixels = vec![0; size];
    if reader.info().interlaced {
        reader.next_frame(&mut pixels).map_err(failed("PNG"))?;
    } else {
        let line = reader
            .output_line_size(width)
            .ok_or_else(|| failed("PNG")("the image is too large for this machine's memory"))?;
        for (y, row) in pixels.chunks_exact_mut(line).enumerate() {
            if y % ROWS_PER_CHECK == 0 && cancelled() {
                return Err(Failure::cancelled());
            }
            reader.read_row(row).map_err(failed("PNG"))?;
        }
        reader.finish().map_err(failed("PNG"))?;
    }
    let channels = match color_type {
        ColorType::Grayscale => 1,
        ColorType::GrayscaleAlpha => 2,
        ColorType::Rgb => 3,
        _ => 4,
    };
    Ok(Image::new(width, height, channels, pixels))
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
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, image.width, image.height);
    encoder.set_color(match image.channels {
        1 => ColorType::Grayscale,
        2 => ColorType::GrayscaleAlpha,
        3 => ColorType::Rgb,
        _ => ColorType::Rgba,
    });
    encoder.set_depth(BitDepth::Eight);
    encoder.set_compression(png::Compression::Balanced);
    encoder.set_filter(png::Filter::NoFilter);
    let mut writer = encoder.write_header().map_err(failed("PNG"))?;
    if image.pixels.len() < 2 * bytes_per_part {
        writer
            .write_image_data(&image.pixels)
            .and_then(|()| writer.finish())
            .map_err(failed("PNG"))?;
        return Ok(out);
    }
    // Each row as PNG stores it: its filter type (0, none), then its samples.
    let row_len = image.width as usize * image.channels as usize;
    let mut filtered = Vec::with_capacity(image.pixels.len() + image.height as usize);
    for row in image.pixels.chunks_exact(row_len) {
        filtered.push(0);
        filtered.extend_from_slice(row);
    }
    let rows_per_part = (bytes_per_part / (row_len + 1)).max(1);
    let chunks = filtered.chunks(rows_per_part * (row_len + 1));
    let count = chunks.len();
    // (the rows, whether they are the last, their deflate)
    let mut parts: Vec<(&[u8], bool, Vec<u8>)> = chunks
        .enumerate()
        .map(|(k, rows)| (rows, k + 1 == count, Vec::new()))
        .collect();
    ctx.for_each(&mut parts, |(rows, last, deflated)| {
        *deflated = deflate(rows, *last)
    });
    if ctx.cancelled() {
        return Err(Failure::cancelled());
    }
    let mut zlib = Vec::with_capacity(
        ZLIB_HEADER.len() + parts.iter().map(|(_, _, d)| d.len()).sum::<usize>() + 4,
    );
    zlib.extend_from_slice(&ZLIB_HEADER);
    for (_, _, deflated) in &parts {
        zlib.extend_from_slice(deflated);
    }
    let mut adler = simd_adler32::Adler32::new();
    adler.write(&filtered);
    zlib.extend_from_slice(&adler.finish().to_be_bytes());
    writer
        .write_chunk(png::chunk::IDAT, &zlib)
        .and_then(|()| writer.finish())
        .map_err(failed("PNG"))?;
    Ok(out)
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
