//! PNG: any bit depth, palette and transparency, read as 8-bit grey / grey + alpha / RGB /
//! RGBA; written with sharp's defaults (zlib level 6, no adaptive filtering).

use super::pixels::Image;
use super::{exif, failed, Header};
use crate::error::Failure;
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

pub fn encode(image: Image) -> Result<Vec<u8>, Failure> {
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
    writer
        .write_image_data(&image.pixels)
        .and_then(|()| writer.finish())
        .map_err(failed("PNG"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_channel_count() {
        for channels in 1..=4u8 {
            let pixels: Vec<u8> = (0..30 * 20 * u32::from(channels))
                .map(|i| i as u8)
                .collect();
            let image = Image::new(30, 20, channels, pixels);
            let png = encode(image.clone()).unwrap();
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
        let png = encode(Image::new(8, 300, 1, vec![1; 2400])).unwrap();
        let failure = decode(&png, || true).unwrap_err();
        assert_eq!(failure.kind, crate::error::Kind::Aborted);
    }

    #[test]
    fn truncated_files_are_errors() {
        let png = encode(Image::new(64, 64, 3, vec![7; 64 * 64 * 3])).unwrap();
        for end in [0, 8, 20, 33, png.len() - 20] {
            assert!(decode(&png[..end], || false).is_err(), "cut at {end}");
        }
    }
}
