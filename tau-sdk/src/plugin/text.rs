//! Text calls: export arguments given as strings and results rendered as
//! strings, for the command line (`tau call`, `tau run`).
//!
//! A type is parsed and rendered by the first rule that applies:
//! 1. [`TextValue`], which tau implements for the integers, floats, `bool`,
//!    `char`, `String`, `()`, `Vec<u8>` (the text's UTF-8 bytes; rendered as
//!    text when it is UTF-8, else as a byte list), `Option<T>` (`none` is
//!    `None`, anything else `Some`) and `Result<T, E>` (an `Err` becomes the
//!    call's error, rendered with `Display`);
//! 2. `FromStr` to parse and `Display` to render;
//! 3. `Debug` to render.
//!
//! A type no rule covers can still be passed in typed calls; a text call of
//! such an export fails with a message naming the type.

use std::fmt::Display;

/// How a value is read from and written as command-line text.
///
/// ```
/// use tau::plugin::TextValue;
///
/// assert_eq!(<Option<u8>>::parse_text("none"), Ok(None));
/// assert_eq!(<Option<u8>>::parse_text("7"), Ok(Some(7)));
/// assert_eq!(Ok::<i64, String>(4).render_text(), Ok("4".to_string()));
/// assert_eq!(Err::<i64, String>("no".into()).render_text(), Err("no".to_string()));
/// ```
pub trait TextValue: Sized {
    /// Parses a value from one command-line argument.
    fn parse_text(text: &str) -> Result<Self, String>;
    /// Renders the value; `Err` makes the call fail with that message.
    fn render_text(&self) -> Result<String, String>;
}

macro_rules! text_via_std {
    ($($ty:ty),*) => {$(
        impl TextValue for $ty {
            fn parse_text(text: &str) -> Result<Self, String> {
                text.parse::<$ty>().map_err(|error| {
                    format!("`{text}` is not a valid {}: {error}", stringify!($ty))
                })
            }
            fn render_text(&self) -> Result<String, String> {
                Ok(self.to_string())
            }
        }
    )*};
}

text_via_std!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64, bool, char, String);

impl TextValue for () {
    fn parse_text(text: &str) -> Result<Self, String> {
        if text.is_empty() || text == "()" {
            Ok(())
        } else {
            Err(format!("`{text}` is not `()`"))
        }
    }
    fn render_text(&self) -> Result<String, String> {
        Ok("()".to_string())
    }
}

impl TextValue for Vec<u8> {
    fn parse_text(text: &str) -> Result<Self, String> {
        Ok(text.as_bytes().to_vec())
    }
    fn render_text(&self) -> Result<String, String> {
        Ok(match std::str::from_utf8(self) {
            Ok(text) => text.to_string(),
            Err(_) => format!("{self:?}"),
        })
    }
}

impl<T: TextValue> TextValue for Option<T> {
    fn parse_text(text: &str) -> Result<Self, String> {
        if text == "none" {
            Ok(None)
        } else {
            T::parse_text(text).map(Some)
        }
    }
    fn render_text(&self) -> Result<String, String> {
        match self {
            Some(value) => value.render_text(),
            None => Ok("none".to_string()),
        }
    }
}

impl<T: TextValue, E: Display> TextValue for Result<T, E> {
    fn parse_text(_text: &str) -> Result<Self, String> {
        Err("a `Result` cannot be given as text".to_string())
    }
    fn render_text(&self) -> Result<String, String> {
        match self {
            Ok(value) => value.render_text(),
            Err(error) => Err(error.to_string()),
        }
    }
}
