//! The EXIF orientation tag (0x0112 in IFD0), read from a TIFF-structured EXIF block.
//! Every offset is checked: the bytes come from untrusted files.

/// The orientation (1..=8) an EXIF block records; 1 (upright) when absent or invalid.
pub fn orientation(exif: &[u8]) -> u8 {
    read_orientation(exif.strip_prefix(b"Exif\0\0").unwrap_or(exif)).unwrap_or(1)
}

fn read_orientation(tiff: &[u8]) -> Option<u8> {
    let big_endian = match tiff.get(..4)? {
        b"MM\0*" => true,
        b"II*\0" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let bytes: [u8; 2] = tiff.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if big_endian {
            u16::from_be_bytes(bytes)
        } else {
            u16::from_le_bytes(bytes)
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let bytes: [u8; 4] = tiff.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if big_endian {
            u32::from_be_bytes(bytes)
        } else {
            u32::from_le_bytes(bytes)
        })
    };
    let ifd = u32_at(4)? as usize;
    let entries = u16_at(ifd)?;
    (0..usize::from(entries))
        .map(|i| ifd + 2 + i * 12)
        .find(|&entry| u16_at(entry) == Some(0x0112))
        // A SHORT value sits in the first two bytes of the entry's value field.
        .and_then(|entry| u16_at(entry + 8))
        .filter(|value| (1..=8).contains(value))
        .map(|value| value as u8)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An EXIF block holding only an orientation tag.
    pub fn exif_with_orientation(value: u16, big_endian: bool) -> Vec<u8> {
        let u16b = |v: u16| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let u32b = |v: u32| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let mut exif = b"Exif\0\0".to_vec();
        exif.extend(if big_endian { *b"MM\0*" } else { *b"II*\0" });
        exif.extend(u32b(8));
        exif.extend(u16b(1));
        exif.extend(u16b(0x0112));
        exif.extend(u16b(3)); // SHORT
        exif.extend(u32b(1));
        exif.extend(u16b(value));
        exif.extend([0, 0]);
        exif.extend(u32b(0));
        exif
    }

    #[test]
    fn reads_the_tag_in_both_byte_orders() {
        assert_eq!(orientation(&exif_with_orientation(6, true)), 6);
        assert_eq!(orientation(&exif_with_orientation(8, false)), 8);
    }

    #[test]
    fn invalid_values_and_broken_blocks_read_as_upright() {
        assert_eq!(orientation(&exif_with_orientation(9, true)), 1);
        let full = exif_with_orientation(6, false);
        // The value's two bytes end at 26: every shorter cut loses it.
        for end in 0..26 {
            assert_eq!(orientation(&full[..end]), 1, "cut at {end}");
        }
        let mut wild = full.clone();
        wild[10..14].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(orientation(&wild), 1);
    }
}
