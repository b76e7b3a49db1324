//! Text a person reads from a journal (names, prompts, notes, file names): which characters
//! can make it lie when shown.

/// A character that can make shown text lie: C0 and C1 controls, DEL, the bidirectional
/// formatting characters (embeddings, overrides, isolates, marks) and the Unicode line and
/// paragraph separators. Names with one are refused; terminals and reports show them escaped.
pub fn is_deceptive(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{2028}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    #[test]
    fn controls_and_direction_marks_are_deceptive_letters_are_not() {
        for c in ['\u{1b}', '\r', '\u{7f}', '\u{9b}', '\u{202e}', '\u{2067}', '\u{200f}', '\u{2028}'] {
            assert!(super::is_deceptive(c), "{c:?}");
        }
        for c in ['a', '狐', 'é', ' ', '\u{200d}'] {
            assert!(!super::is_deceptive(c), "{c:?}");
        }
    }
}
