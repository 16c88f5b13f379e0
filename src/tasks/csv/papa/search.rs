//! Searching UTF-16 text as JavaScript's `indexOf`, `split` and `\s` do.

use super::Text;

pub(super) fn index_of(hay: &[u16], needle: &[u16], from: usize) -> Option<usize> {
    if from > hay.len() {
        return None;
    }
    match needle {
        [] => Some(from),
        [single] => find_unit(&hay[from..], *single).map(|i| i + from),
        _ => hay[from..]
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|i| i + from),
    }
}

/// The first `needle` in `hay`. Compares a block of units at a time without branching,
/// which LLVM turns into vector compares: the scanner spends most of its time here (a
/// search for an absent delimiter crosses the whole input, as in Papa Parse).
pub(super) fn find_unit(hay: &[u16], needle: u16) -> Option<usize> {
    const BLOCK: usize = 32;
    let mut blocks = hay.chunks_exact(BLOCK);
    for (b, block) in blocks.by_ref().enumerate() {
        if block
            .iter()
            .fold(false, |hit, &unit| hit | (unit == needle))
        {
            return block
                .iter()
                .position(|&unit| unit == needle)
                .map(|i| b * BLOCK + i);
        }
    }
    let rest = blocks.remainder();
    rest.iter()
        .position(|&unit| unit == needle)
        .map(|i| hay.len() - rest.len() + i)
}

/// JavaScript's `split` with a string separator, as slices, lazily.
pub(super) fn split_lazily<'a, 's>(
    text: &'a [u16],
    separator: &'s [u16],
) -> impl Iterator<Item = &'a [u16]> + 's
where
    'a: 's,
{
    let mut start = Some(0);
    std::iter::from_fn(move || {
        let from = start?;
        match index_of(text, separator, from) {
            Some(at) => {
                start = Some(at + separator.len());
                Some(&text[from..at])
            }
            None => {
                start = None;
                Some(&text[from..])
            }
        }
    })
}

/// JavaScript's `\s` (and `trim`): its WhiteSpace and LineTerminator code points.
pub fn is_js_space(c: u16) -> bool {
    matches!(
        c,
        0x09..=0x0d
            | 0x20
            | 0xa0
            | 0x1680
            | 0x2000..=0x200a
            | 0x2028
            | 0x2029
            | 0x202f
            | 0x205f
            | 0x3000
            | 0xfeff
    )
}

pub(super) fn is_blank(text: &[u16]) -> bool {
    text.iter().all(|&c| is_js_space(c))
}

pub(super) fn text(s: &str) -> Text {
    s.encode_utf16().collect()
}
