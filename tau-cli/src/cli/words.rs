//! Splitting a command line typed to `tau run` into words: whitespace
//! separates, `"..."` and `'...'` group, `\` escapes the next character.

/// The words of `line`, or an error for an unclosed quote.
pub(crate) fn split(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => words.extend(word.take()),
            '\\' => {
                let escaped = chars.next().ok_or("a `\\` at the end of the line escapes nothing")?;
                word.get_or_insert_with(String::new).push(escaped);
            }
            '"' | '\'' => {
                let quote = c;
                let word = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        None => return Err(format!("unclosed {quote} quote")),
                        Some(c) if c == quote => break,
                        Some('\\') if quote == '"' => {
                            word.push(chars.next().ok_or(format!("unclosed {quote} quote"))?)
                        }
                        Some(c) => word.push(c),
                    }
                }
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn words_quotes_and_escapes() {
        assert_eq!(split("  greet  world ").unwrap(), ["greet", "world"]);
        assert_eq!(
            split(r#"greet "hello world" 'it''s' a\ b """#).unwrap(),
            ["greet", "hello world", "its", "a b", ""]
        );
        assert_eq!(split(r#"say "a \"quoted\" word""#).unwrap(), ["say", r#"a "quoted" word"#]);
        assert_eq!(split("").unwrap(), Vec::<String>::new());
        assert_eq!(split("greet \"open").unwrap_err(), "unclosed \" quote");
        assert!(split("trailing \\").is_err());
    }
}
