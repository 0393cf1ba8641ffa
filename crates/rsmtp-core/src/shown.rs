//! Text from outside (a server's reply, a greeting, a log line, an environment
//! variable) as rsmtp shows it: msmtp's `sanitize_string`, every control character
//! as `?`, so an escape sequence cannot recolour, clear or rewrite a terminal, and a
//! CR or LF cannot start a line of its own in a log or a header.

/// `text` with every control character (CR and LF included) replaced by `?`.
pub fn shown(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_question_marks() {
        assert_eq!(shown("a\x1b[2Jb\rc\nd\x07é"), "a?[2Jb?c?d?é");
    }
}
