//! Makefile-syntax dep files, as rustc and cargo write them beside each
//! artifact (`target/debug/libfoo.d`).
//!
//! The grammar handled is the subset they produce, read strictly: a rule is
//! `TARGET... : PREREQUISITE...`; a backslash before a newline continues the
//! line; `\ ` is a space inside a path, `\#` a `#`, `\\` a backslash and
//! `$$` a `$`; an unescaped `#` starts a comment. Anything else that make
//! would give a meaning (a lone `$`, a line without a colon) is an error, so
//! that the caller falls back to cargo instead of guessing.

use std::fmt;
use std::path::PathBuf;

/// One rule: its targets and what they depend on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rule {
    /// The files the rule makes.
    pub targets: Vec<PathBuf>,
    /// The files they depend on.
    pub prerequisites: Vec<PathBuf>,
}

/// A parsed dep file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DepFile {
    /// The rules, in file order.
    pub rules: Vec<Rule>,
}

/// Why a dep file could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The 1-based line (of the first physical line of the rule).
    pub line: usize,
    /// What is wrong.
    pub message: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

impl DepFile {
    /// Parses the text of a dep file.
    pub fn parse(text: &str) -> Result<DepFile, ParseError> {
        let mut rules = Vec::new();
        for (line, logical) in logical_lines(text) {
            let error = |message| ParseError { line, message };
            let words = words(&logical).map_err(error)?;
            if words.is_empty() {
                continue;
            }
            let Some(colon) = words.iter().position(|word| matches!(word, Word::Colon)) else {
                return Err(error("a rule without `:`"));
            };
            let paths = |words: &[Word]| -> Result<Vec<PathBuf>, ParseError> {
                words
                    .iter()
                    .map(|word| match word {
                        Word::Path(path) => Ok(PathBuf::from(path)),
                        Word::Colon => Err(error("a second `:` in one rule")),
                    })
                    .collect()
            };
            let targets = paths(&words[..colon])?;
            if targets.is_empty() {
                return Err(error("a rule without a target"));
            }
            rules.push(Rule { targets, prerequisites: paths(&words[colon + 1..])? });
        }
        Ok(DepFile { rules })
    }

    /// Every prerequisite of every rule, each once, in first-seen order.
    pub fn prerequisites(&self) -> Vec<&PathBuf> {
        let mut seen = std::collections::HashSet::new();
        self.rules.iter().flat_map(|rule| &rule.prerequisites).filter(|path| seen.insert(*path)).collect()
    }
}

/// The environment variables rustc recorded in a dep file it wrote
/// (`# env-dep:NAME=VALUE`, or `# env-dep:NAME` for one that was unset),
/// in file order: what `env!`, `option_env!` and proc macros read.
/// rustc escapes `\\`, newlines and carriage returns in both parts.
pub fn env_dependencies(text: &str) -> Vec<(String, Option<String>)> {
    text.lines()
        .filter_map(|line| line.strip_prefix("# env-dep:"))
        .map(|entry| match entry.split_once('=') {
            Some((name, value)) => (unescape_env(name), Some(unescape_env(value))),
            None => (unescape_env(entry), None),
        })
        .collect()
}

/// Undoes rustc's escaping of an `env-dep` name or value.
fn unescape_env(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// The physical lines joined where a backslash ends one, each with the
/// number of its first physical line.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut start = 1;
    for (index, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if current.is_empty() {
            start = index + 1;
        }
        match continued(raw) {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(raw);
                lines.push((start, std::mem::take(&mut current)));
            }
        }
    }
    if !current.is_empty() {
        lines.push((start, current));
    }
    lines
}

/// `line` without its continuation backslash, if it ends with one (an odd
/// number of trailing backslashes: `\\` is an escaped backslash).
fn continued(line: &str) -> Option<&str> {
    let trailing = line.len() - line.trim_end_matches('\\').len();
    (trailing % 2 == 1).then(|| &line[..line.len() - 1])
}

#[derive(Debug, PartialEq, Eq)]
enum Word {
    Path(String),
    Colon,
}

/// Splits a logical line into paths and rule colons. A colon separates
/// targets from prerequisites when it ends a word (`C:\x` keeps its colon).
fn words(line: &str) -> Result<Vec<Word>, &'static str> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = line.chars().peekable();
    let end_word = |word: &mut String, words: &mut Vec<Word>| {
        if !word.is_empty() {
            words.push(Word::Path(std::mem::take(word)));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&escaped @ (' ' | '#' | '\\' | ':')) => {
                    word.push(escaped);
                    chars.next();
                }
                _ => word.push('\\'),
            },
            '$' => match chars.next() {
                Some('$') => word.push('$'),
                _ => return Err("a `$` that is not `$$` (a make variable)"),
            },
            '#' if word.is_empty() => break,
            ':' if chars.peek().is_none_or(|next| next.is_whitespace()) => {
                end_word(&mut word, &mut words);
                words.push(Word::Colon);
            }
            c if c.is_whitespace() => end_word(&mut word, &mut words),
            c => word.push(c),
        }
    }
    end_word(&mut word, &mut words);
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each rule as `target|target : prerequisite|prerequisite`.
    fn rules(text: &str) -> Vec<String> {
        let parsed = DepFile::parse(text).unwrap_or_else(|error| panic!("{text:?}: {error}"));
        let join =
            |paths: &[PathBuf]| paths.iter().map(|path| path.to_str().unwrap()).collect::<Vec<_>>().join("|");
        parsed
            .rules
            .iter()
            .map(|rule| format!("{} : {}", join(&rule.targets), join(&rule.prerequisites)))
            .collect()
    }

    #[test]
    fn a_rule_as_cargo_writes_it() {
        assert_eq!(
            rules("/t/debug/libp.so: /p/src/lib.rs /p/src/a.rs\n"),
            ["/t/debug/libp.so : /p/src/lib.rs|/p/src/a.rs"]
        );
    }

    #[test]
    fn escaped_spaces_are_part_of_the_path() {
        assert_eq!(
            rules("/t/lib\\ p.so: /my\\ dir/src/lib.rs /b\\ \\ c.rs\n"),
            ["/t/lib p.so : /my dir/src/lib.rs|/b  c.rs"]
        );
    }

    #[test]
    fn dollars_are_doubled() {
        assert_eq!(rules("t: /a$$b/c.rs\n"), ["t : /a$b/c.rs"]);
        assert_eq!(
            DepFile::parse("t: /a$b/c.rs\n").unwrap_err().message,
            "a `$` that is not `$$` (a make variable)"
        );
        assert!(DepFile::parse("t: /a$").is_err());
    }

    #[test]
    fn hashes_backslashes_and_colons_escape() {
        assert_eq!(rules("t: /a\\#b /c\\\\ /d\\:e\n"), ["t : /a#b|/c\\|/d:e"]);
        // A backslash before anything else is literal.
        assert_eq!(rules("t: C:\\src\\lib.rs\n"), ["t : C:\\src\\lib.rs"]);
    }

    #[test]
    fn continuation_lines_join() {
        assert_eq!(
            rules("t: /a.rs \\\n  /b.rs\\\n /c.rs\r\n\nu: /d.rs"),
            ["t : /a.rs|/b.rs|/c.rs", "u : /d.rs"]
        );
        // An escaped backslash at the end of a line does not continue it.
        assert_eq!(rules("t: /a\\\\\nu: /b"), ["t : /a\\", "u : /b"]);
    }

    #[test]
    fn several_targets_and_rules() {
        let text = "/t/libp.rlib /t/libp.so: /p/lib.rs /p/a.rs\n/p/lib.rs:\n/p/a.rs:\n";
        assert_eq!(
            rules(text),
            ["/t/libp.rlib|/t/libp.so : /p/lib.rs|/p/a.rs", "/p/lib.rs : ", "/p/a.rs : "]
        );
        let parsed = DepFile::parse("a: x y\nb: y z\n").unwrap();
        let all: Vec<_> = parsed.prerequisites().iter().map(|path| path.to_str().unwrap()).collect();
        assert_eq!(all, ["x", "y", "z"]);
    }

    #[test]
    fn comments_and_blank_lines_are_skipped() {
        assert_eq!(rules("# env-dep:CARGO_PKG_NAME=p\n\n   \nt: /a.rs # trailing\n"), ["t : /a.rs"]);
    }

    #[test]
    fn environment_variables_as_rustc_writes_them() {
        let text = "/t/deps/p.d: src/lib.rs\n\nsrc/lib.rs:\n\n# env-dep:CARGO_PKG_NAME=p\n\
                    # env-dep:TAU_X\n# env-dep:TAU_Y=a=b\\nc\\\\d\n";
        assert_eq!(
            env_dependencies(text),
            [
                ("CARGO_PKG_NAME".to_string(), Some("p".to_string())),
                ("TAU_X".to_string(), None),
                ("TAU_Y".to_string(), Some("a=b\nc\\d".to_string())),
            ]
        );
        assert_eq!(DepFile::parse(text).unwrap().prerequisites(), [&PathBuf::from("src/lib.rs")]);
    }

    #[test]
    fn malformed_input_is_an_error_with_its_line() {
        let error = DepFile::parse("t: a\n\n/only/a/path\n").unwrap_err();
        assert_eq!(error, ParseError { line: 3, message: "a rule without `:`" });
        assert_eq!(DepFile::parse(": a\n").unwrap_err().message, "a rule without a target");
        assert_eq!(DepFile::parse("t: a: b\n").unwrap_err().message, "a second `:` in one rule");
        assert_eq!(DepFile::parse("").unwrap(), DepFile::default());
    }
}
