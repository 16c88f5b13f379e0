//! GIF: the first frame, placed on the logical screen (transparent elsewhere), as RGBA; RGB
//! when no pixel is transparent.

use super::pixels::Image;
use super::{failed, Header};
use crate::error::Failure;
use gif::{ColorOutput, DecodeOptions, MemoryLimit};

fn options() -> DecodeOptions {
    let mut options = DecodeOptions::new();
    options.set_color_output(ColorOutput::RGBA);
    // A frame must lie within the screen, whose size the pixel limit already bounds.
    options.check_frame_consistency(true);
    options.set_memory_limit(MemoryLimit::Unlimited);
    options
}

pub fn header(bytes: &[u8]) -> Result<Header, Failure> {
    let decoder = options().read_info(bytes).map_err(failed("GIF"))?;
    Ok(Header {
        width: u32::from(decoder.width()),
        height: u32::from(decoder.height()),
        orientation: 1,
    })
}

pub fn decode(bytes: &[u8]) -> Result<Image, Failure> {
    let mut decoder = options().read_info(bytes).map_err(failed("GIF"))?;
    let (width, height) = (usize::from(decoder.width()), usize::from(decoder.height()));
    let frame = decoder
        .read_next_frame()
        .map_err(failed("GIF"))?
        .ok_or_else(|| failed("GIF")("the file has no image"))?;
    let (left, top) = (usize::from(frame.left), usize::from(frame.top));
    let frame_width = usize::from(frame.width);
    let mut pixels = vec![0; width * height * 4];
    for (y, row) in frame.buffer.chunks_exact(frame_width * 4).enumerate() {
        let at = ((top + y) * width + left) * 4;
        pixels[at..at + row.len()].copy_from_slice(row);
    }
    let image = Image::new(width as u32, height as u32, 4, pixels);
    Ok(if image.pixels.chunks_exact(4).all(|p| p[3] == 255) {
        image.without_alpha()
    } else {
        image
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 4 × 2 GIF whose one frame covers the right half, with palette index 2 transparent.
    fn small_gif(transparent: Option<u8>) -> Vec<u8> {
        let mut out = Vec::new();
        let palette = [255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9];
        let mut encoder = gif::Encoder::new(&mut out, 4, 2, &palette).unwrap();
        let mut frame = gif::Frame {
            left: 2,
            width: 2,
            height: 2,
            transparent,
            buffer: vec![0, 1, 2, 3].into(),
            ..gif::Frame::default()
        };
        frame.palette = None;
        encoder.write_frame(&frame).unwrap();
        drop(encoder);
        out
    }

    #[test]
    fn the_first_frame_lands_on_a_transparent_screen() {
        let gif = small_gif(Some(2));
        let header = header(&gif).unwrap();
        assert_eq!((header.width, header.height), (4, 2));
        let image = decode(&gif).unwrap();
        assert_eq!(image.channels, 4);
        let pixel = |x: usize, y: usize| &image.pixels[(y * 4 + x) * 4..][..4];
        assert_eq!(pixel(0, 0)[3], 0);
        assert_eq!(pixel(2, 0), [255, 0, 0, 255]);
        assert_eq!(pixel(3, 0), [0, 255, 0, 255]);
        assert_eq!(pixel(2, 1)[3], 0);
        assert_eq!(pixel(3, 1), [9, 9, 9, 255]);
    }

    #[test]
    fn truncated_files_are_errors() {
        let gif = small_gif(None);
        for end in [0, 6, 13, 20] {
            assert!(decode(&gif[..end]).is_err(), "cut at {end}");
        }
    }
}
