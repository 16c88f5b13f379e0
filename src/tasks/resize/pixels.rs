//! Decoded pixels (8 bits per sample; grey, grey + alpha, RGB or RGBA) and what the
//! pipeline does to them between decode and encode.

use super::bands::Bands;
use crate::error::{Failure, Kind};
use crate::pool::Ctx;
use fast_image_resize as fir;
use std::fmt::Display;

pub(super) fn resize_failed(error: impl Display) -> Failure {
    Failure::new(Kind::TaskFailed, format!("resize: {error}"))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    /// 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA.
    pub channels: u8,
    pub pixels: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    Nearest,
    Linear,
    Cubic,
    Mitchell,
    Lanczos2,
    Lanczos3,
}

/// An RGBA colour, each 0..=255 (sharp's `background`, alpha scaled from 0..1).
pub type Rgba = [u8; 4];

impl Image {
    pub fn new(width: u32, height: u32, channels: u8, pixels: Vec<u8>) -> Self {
        debug_assert_eq!(
            pixels.len(),
            width as usize * height as usize * channels as usize
        );
        Self {
            width,
            height,
            channels,
            pixels,
        }
    }

    pub fn has_alpha(&self) -> bool {
        self.channels.is_multiple_of(2)
    }

    pub fn row_len(&self) -> usize {
        self.width as usize * self.channels as usize
    }

    /// Resampled to `width` × `height`; alpha is premultiplied while resampling, as sharp
    /// does. A large image is resampled in bands of rows on the pool's free threads.
    pub fn resize(
        self,
        width: u32,
        height: u32,
        kernel: Kernel,
        ctx: &Ctx,
    ) -> Result<Image, Failure> {
        if (width, height) == (self.width, self.height) {
            return Ok(self);
        }
        let source = (self.width, self.height);
        let Some(bands) = Bands::new(source, (width, height), self.channels, kernel) else {
            return self.resize_whole(width, height, kernel);
        };
        bands.resample_image(self, ctx)
    }

    /// In one go, with fast_image_resize's own handling of alpha.
    fn resize_whole(self, width: u32, height: u32, kernel: Kernel) -> Result<Image, Failure> {
        let pixel_type = pixel_type(self.channels);
        let algorithm = filter(kernel).map_or(fir::ResizeAlg::Nearest, fir::ResizeAlg::Convolution);
        let channels = self.channels;
        let source =
            fir::images::Image::from_vec_u8(self.width, self.height, self.pixels, pixel_type)
                .map_err(resize_failed)?;
        let mut target = fir::images::Image::new(width, height, pixel_type);
        let options = fir::ResizeOptions::new().resize_alg(algorithm);
        fir::Resizer::new()
            .resize(&source, &mut target, &options)
            .map_err(resize_failed)?;
        Ok(Image::new(width, height, channels, target.into_vec()))
    }

    /// The `width` × `height` region whose top-left corner is at (`left`, `top`), moved
    /// within the same buffer (each row lands at or before where it was).
    pub fn crop(mut self, left: u32, top: u32, width: u32, height: u32) -> Image {
        if (left, top, width, height) == (0, 0, self.width, self.height) {
            return self;
        }
        let (row_len, channels) = (self.row_len(), self.channels as usize);
        let (start, len) = (left as usize * channels, width as usize * channels);
        for y in 0..height as usize {
            let from = (top as usize + y) * row_len + start;
            self.pixels.copy_within(from..from + len, y * len);
        }
        self.pixels.truncate(len * height as usize);
        Image::new(width, height, self.channels, self.pixels)
    }

    /// Placed at (`left`, `top`) on a `width` × `height` canvas of `background`. A
    /// translucent background gives an opaque image an alpha channel, as in sharp.
    pub fn embed(self, left: u32, top: u32, width: u32, height: u32, background: Rgba) -> Image {
        let image = if background[3] < 255 && !self.has_alpha() {
            self.with_alpha()
        } else {
            self
        };
        let fill = image.colour(background);
        let mut pixels = fill.repeat(width as usize * height as usize);
        let channels = image.channels as usize;
        let out_row = width as usize * channels;
        for (y, row) in image.pixels.chunks_exact(image.row_len()).enumerate() {
            let at = (top as usize + y) * out_row + left as usize * channels;
            pixels[at..at + row.len()].copy_from_slice(row);
        }
        Image::new(width, height, image.channels, pixels)
    }

    /// `colour` in this image's channels (its luma for grey images).
    fn colour(&self, [r, g, b, a]: Rgba) -> Vec<u8> {
        let luma = || {
            (0.2126 * f64::from(r) + 0.7152 * f64::from(g) + 0.0722 * f64::from(b)).round() as u8
        };
        match self.channels {
            1 => vec![luma()],
            2 => vec![luma(), a],
            3 => vec![r, g, b],
            _ => vec![r, g, b, a],
        }
    }

    fn with_alpha(self) -> Image {
        let channels = self.channels + 1;
        self.map_pixels(channels, |pixel, out| {
            out.extend_from_slice(pixel);
            out.push(255);
        })
    }

    /// Alpha removed by compositing over black, as libvips does for formats without alpha.
    pub fn without_alpha(self) -> Image {
        if !self.has_alpha() {
            return self;
        }
        let channels = self.channels - 1;
        self.map_pixels(channels, |pixel, out| {
            let (colour, alpha) = pixel.split_at(pixel.len() - 1);
            let alpha = u32::from(alpha[0]);
            out.extend(
                colour
                    .iter()
                    .map(|&v| ((u32::from(v) * alpha + 127) / 255) as u8),
            );
        })
    }

    /// Grey expanded to RGB (alpha kept), for encoders that only take colour.
    pub fn into_colour(self) -> Image {
        if self.channels >= 3 {
            return self;
        }
        let channels = self.channels + 2;
        self.map_pixels(channels, |pixel, out| {
            out.extend_from_slice(&[pixel[0]; 3]);
            out.extend_from_slice(&pixel[1..]);
        })
    }

    /// A new image of `channels` per pixel: `write` appends each new pixel, given the old one.
    fn map_pixels(self, channels: u8, mut write: impl FnMut(&[u8], &mut Vec<u8>)) -> Image {
        let count = self.width as usize * self.height as usize;
        let mut pixels = Vec::with_capacity(count * usize::from(channels));
        for pixel in self.pixels.chunks_exact(usize::from(self.channels)) {
            write(pixel, &mut pixels);
        }
        Image::new(self.width, self.height, channels, pixels)
    }

    /// The pixels padded to `width` × `height` (at least the image's size) by repeating the
    /// last column and row, as a JPEG encoder's whole blocks need them.
    pub fn padded_to(self, width: u32, height: u32) -> Vec<u8> {
        if (width, height) == (self.width, self.height) {
            return self.pixels;
        }
        let channels = self.channels as usize;
        let padded_row = width as usize * channels;
        let mut pixels = Vec::with_capacity(padded_row * height as usize);
        for row in self.pixels.chunks_exact(self.row_len()) {
            pixels.extend_from_slice(row);
            for _ in self.width..width {
                pixels.extend_from_within(pixels.len() - channels..pixels.len());
            }
        }
        for _ in self.height..height {
            pixels.extend_from_within(pixels.len() - padded_row..);
        }
        pixels
    }

    /// Turned upright for an EXIF orientation (1..=8): rotate first, then mirror, as sharp.
    pub fn orient(self, orientation: u8) -> Image {
        let (quarter_turns, mirror) = match orientation {
            2 => (0, true),
            3 => (2, false),
            4 => (2, true),
            5 => (1, true),
            6 => (1, false),
            7 => (3, true),
            8 => (3, false),
            _ => return self,
        };
        let (w, h) = (self.width as usize, self.height as usize);
        let (out_w, out_h) = if quarter_turns % 2 == 1 {
            (h, w)
        } else {
            (w, h)
        };
        let channels = self.channels as usize;
        let mut pixels = vec![0; self.pixels.len()];
        for y in 0..h {
            for x in 0..w {
                // Where (x, y) lands after a clockwise turn, then a left-right mirror.
                let (mut ox, oy) = match quarter_turns {
                    1 => (h - 1 - y, x),
                    2 => (w - 1 - x, h - 1 - y),
                    3 => (y, w - 1 - x),
                    _ => (x, y),
                };
                if mirror {
                    ox = out_w - 1 - ox;
                }
                let from = (y * w + x) * channels;
                let to = (oy * out_w + ox) * channels;
                pixels[to..to + channels].copy_from_slice(&self.pixels[from..from + channels]);
            }
        }
        Image::new(out_w as u32, out_h as u32, self.channels, pixels)
    }
}

/// Lanczos with two lobes, which fast_image_resize does not name.
fn lanczos2(x: f64) -> f64 {
    let sinc = |x: f64| {
        if x == 0.0 {
            1.0
        } else {
            let x = x * std::f64::consts::PI;
            x.sin() / x
        }
    };
    if x.abs() < 2.0 {
        sinc(x) * sinc(x / 2.0)
    } else {
        0.0
    }
}

/// Lanczos with three lobes, sinc(x)·sinc(x/3), on one sine where fast_image_resize's own
/// takes two: sin(πx) follows from sin(πx/3) by the triple-angle formula. The weights are
/// made afresh for every resize, and their sines were about 3 % of a JPEG resize's time.
fn lanczos3(x: f64) -> f64 {
    if x == 0.0 {
        return 1.0;
    }
    if x.abs() >= 3.0 {
        return 0.0;
    }
    let third = x * std::f64::consts::PI / 3.0;
    let sin_third = third.sin();
    let sin_whole = sin_third * (3.0 - 4.0 * sin_third * sin_third);
    // sin(πx)·sin(πx/3) / (πx · πx/3), where πx = 3·third.
    sin_whole * sin_third / (3.0 * third * third)
}

pub(super) fn pixel_type(channels: u8) -> fir::PixelType {
    match channels {
        1 => fir::PixelType::U8,
        2 => fir::PixelType::U8x2,
        3 => fir::PixelType::U8x3,
        _ => fir::PixelType::U8x4,
    }
}

/// The convolution filter of a kernel; None for the nearest pixel.
pub(super) fn filter(kernel: Kernel) -> Option<fir::FilterType> {
    Some(match kernel {
        Kernel::Nearest => return None,
        Kernel::Linear => fir::FilterType::Bilinear,
        Kernel::Cubic => fir::FilterType::CatmullRom,
        Kernel::Mitchell => fir::FilterType::Mitchell,
        Kernel::Lanczos2 => fir::FilterType::Custom(
            fir::Filter::new("lanczos2", lanczos2, 2.0).expect("a finite, positive support"),
        ),
        Kernel::Lanczos3 => fir::FilterType::Custom(
            fir::Filter::new("lanczos3", lanczos3, 3.0).expect("a finite, positive support"),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::testing::never_cancelled;

    /// `image` resampled in bands of 64 source rows, as `resize` does for larger images.
    fn in_bands(image: Image, width: u32, height: u32, kernel: Kernel) -> Image {
        let source = (image.width, image.height);
        let band_pixels = f64::from(image.width) * 64.0;
        let bands =
            Bands::reading(band_pixels, source, (width, height), image.channels, kernel).unwrap();
        bands.resample_image(image, &never_cancelled()).unwrap()
    }

    #[test]
    fn bands_resample_as_the_whole_image_does() {
        let mut seed = 11u32;
        let mut noise = |len: usize| -> Vec<u8> {
            (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    (seed >> 16) as u8
                })
                .collect()
        };
        for channels in [1, 3, 4] {
            let image = Image::new(301, 517, channels, noise(301 * 517 * channels as usize));
            // Whole, fractional, upward and far-down scales (bands of fewer rows).
            for (width, height) in [(100, 200), (150, 129), (77, 301), (400, 700), (30, 20)] {
                for kernel in [Kernel::Linear, Kernel::Cubic, Kernel::Lanczos3] {
                    let whole = image.clone().resize_whole(width, height, kernel).unwrap();
                    let bands = in_bands(image.clone(), width, height, kernel);
                    let what = format!("{channels} channels to {width}×{height} with {kernel:?}");
                    // A weight may round the other way, moving a sample by at most 2 levels,
                    // premultiplied where there is alpha (so, divided out, by at most 2 levels
                    // times 255 / alpha, plus the rounding of the division).
                    let samples = channels as usize;
                    let pixels = whole
                        .pixels
                        .chunks(samples)
                        .zip(bands.pixels.chunks(samples));
                    for (a, b) in pixels {
                        let alpha = if channels == 4 {
                            u32::from(a[3].max(1))
                        } else {
                            255
                        };
                        for (x, y) in a.iter().zip(b) {
                            let moved = u32::from(x.abs_diff(*y));
                            assert!(moved * alpha <= 2 * 255 + alpha, "{what}: {a:?} and {b:?}");
                        }
                    }
                }
            }
        }
    }

    /// A 3 × 2 grey image whose pixels are their own indices.
    fn numbered() -> Image {
        Image::new(3, 2, 1, vec![0, 1, 2, 3, 4, 5])
    }

    #[test]
    fn orientations_turn_and_mirror_like_exif_says() {
        // 0 1 2      6: turned clockwise      8: counter-clockwise    3: half a turn
        // 3 4 5         3 0                      2 5                     5 4 3
        //               4 1                      1 4                     2 1 0
        //               5 2                      0 3
        assert_eq!(numbered().orient(6).pixels, [3, 0, 4, 1, 5, 2]);
        assert_eq!(numbered().orient(8).pixels, [2, 5, 1, 4, 0, 3]);
        assert_eq!(numbered().orient(3).pixels, [5, 4, 3, 2, 1, 0]);
        assert_eq!(numbered().orient(2).pixels, [2, 1, 0, 5, 4, 3]);
        assert_eq!(numbered().orient(4).pixels, [3, 4, 5, 0, 1, 2]);
        // 5 transposes, 7 transposes across the other diagonal.
        assert_eq!(numbered().orient(5).pixels, [0, 3, 1, 4, 2, 5]);
        assert_eq!(numbered().orient(7).pixels, [5, 2, 4, 1, 3, 0]);
        assert_eq!(
            (numbered().orient(5).width, numbered().orient(5).height),
            (2, 3)
        );
        assert_eq!(numbered().orient(1), numbered());
    }

    #[test]
    fn crop_and_embed_move_the_right_pixels() {
        assert_eq!(numbered().crop(1, 1, 2, 1).pixels, [4, 5]);
        let embedded = numbered().embed(1, 0, 4, 3, [200, 200, 200, 255]);
        assert_eq!(
            embedded.pixels,
            [200, 0, 1, 2, 200, 3, 4, 5, 200, 200, 200, 200]
        );
        let translucent = Image::new(1, 1, 3, vec![9, 8, 7]).embed(0, 0, 2, 1, [1, 2, 3, 0]);
        assert_eq!(translucent.channels, 4);
        assert_eq!(translucent.pixels, [9, 8, 7, 255, 1, 2, 3, 0]);
    }

    #[test]
    fn alpha_is_flattened_over_black_and_grey_becomes_colour() {
        let image = Image::new(2, 1, 2, vec![200, 255, 200, 0]);
        assert_eq!(image.clone().without_alpha().pixels, [200, 0]);
        assert_eq!(
            image.into_colour().pixels,
            [200, 200, 200, 255, 200, 200, 200, 0]
        );
    }

    #[test]
    fn padding_repeats_the_last_column_and_row() {
        assert_eq!(numbered().padded_to(4, 2), [0, 1, 2, 2, 3, 4, 5, 5]);
        assert_eq!(
            numbered().padded_to(5, 3),
            [0, 1, 2, 2, 2, 3, 4, 5, 5, 5, 3, 4, 5, 5, 5]
        );
        let column = Image::new(1, 3, 1, vec![7, 8, 9]);
        assert_eq!(column.padded_to(2, 4), [7, 7, 8, 8, 9, 9, 9, 9]);
        let even = Image::new(2, 2, 1, vec![1, 2, 3, 4]);
        assert_eq!(even.padded_to(2, 2), [1, 2, 3, 4]);
    }

    #[test]
    fn resizing_a_flat_colour_keeps_it_for_every_kernel() {
        for kernel in [
            Kernel::Nearest,
            Kernel::Linear,
            Kernel::Cubic,
            Kernel::Mitchell,
            Kernel::Lanczos2,
            Kernel::Lanczos3,
        ] {
            let flat = Image::new(40, 30, 3, [10, 120, 250].repeat(1200));
            for (w, h) in [(7, 5), (80, 61)] {
                let out = flat
                    .clone()
                    .resize(w, h, kernel, &never_cancelled())
                    .unwrap();
                assert_eq!((out.width, out.height), (w, h));
                assert!(
                    out.pixels.chunks(3).all(|p| p == [10, 120, 250]),
                    "{kernel:?}"
                );
            }
        }
    }

    #[test]
    fn lanczos3_is_the_product_of_two_sincs() {
        let sinc = |x: f64| {
            let x = x * std::f64::consts::PI;
            x.sin() / x
        };
        assert_eq!(lanczos3(0.0), 1.0);
        for step in 1..600 {
            let x = step as f64 / 200.0;
            for x in [x, -x] {
                let expected = sinc(x) * sinc(x / 3.0);
                assert!((lanczos3(x) - expected).abs() < 1e-12, "{x}");
            }
        }
        assert_eq!(lanczos3(3.0), 0.0);
        assert_eq!(lanczos3(-7.5), 0.0);
    }

    #[test]
    fn lanczos3_resizes_as_fast_image_resize_does() {
        let mut seed = 7u32;
        let pixels = (0..97 * 61 * 3)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (seed >> 16) as u8
            })
            .collect::<Vec<_>>();
        for (width, height) in [(40, 25), (33, 61), (150, 90)] {
            let source =
                fir::images::Image::from_vec_u8(97, 61, pixels.clone(), fir::PixelType::U8x3)
                    .unwrap();
            let mut target = fir::images::Image::new(width, height, fir::PixelType::U8x3);
            let crate_lanczos3 = fir::ResizeAlg::Convolution(fir::FilterType::Lanczos3);
            fir::Resizer::new()
                .resize(
                    &source,
                    &mut target,
                    &fir::ResizeOptions::new().resize_alg(crate_lanczos3),
                )
                .unwrap();
            let ours = Image::new(97, 61, 3, pixels.clone())
                .resize(width, height, Kernel::Lanczos3, &never_cancelled())
                .unwrap();
            assert_eq!(ours.pixels, target.into_vec(), "{width}×{height}");
        }
    }

    #[test]
    fn lanczos2_is_one_at_zero_and_zero_at_its_lobes_and_beyond() {
        assert_eq!(lanczos2(0.0), 1.0);
        assert!(lanczos2(1.0).abs() < 1e-12);
        assert_eq!(lanczos2(2.5), 0.0);
    }
}
