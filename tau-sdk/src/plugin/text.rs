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

use std::fmt::{Debug, Display};
use std::marker::PhantomData;
use std::str::FromStr;

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

/// Picks the text rule for `T` at a call site where `T` is concrete (the
/// generated entry points), by method resolution: the receiver
/// `&&&Codec<T>` first finds the [`TextValue`] impl, then `FromStr` /
/// `Display`, then `Debug`, then the fallback.
#[doc(hidden)]
pub struct Codec<T>(PhantomData<fn() -> T>);

impl<T> Codec<T> {
    #[doc(hidden)]
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Codec(PhantomData)
    }
}

#[doc(hidden)]
pub trait ParseByTextValue<T> {
    fn parse_text(&self, text: &str) -> Result<T, String>;
    fn can_parse(&self) -> bool {
        true
    }
}
impl<T: TextValue> ParseByTextValue<T> for &&Codec<T> {
    fn parse_text(&self, text: &str) -> Result<T, String> {
        T::parse_text(text)
    }
}

#[doc(hidden)]
pub trait ParseByFromStr<T> {
    fn parse_text(&self, text: &str) -> Result<T, String>;
    fn can_parse(&self) -> bool {
        true
    }
}
impl<T: FromStr> ParseByFromStr<T> for &Codec<T>
where
    T::Err: Display,
{
    fn parse_text(&self, text: &str) -> Result<T, String> {
        text.parse::<T>().map_err(|error| format!("`{text}` is not a valid {}: {error}", short_name::<T>()))
    }
}

#[doc(hidden)]
pub trait ParseUnsupported<T> {
    fn parse_text(&self, text: &str) -> Result<T, String>;
    fn can_parse(&self) -> bool {
        false
    }
}
impl<T> ParseUnsupported<T> for Codec<T> {
    fn parse_text(&self, _text: &str) -> Result<T, String> {
        Err(format!(
            "a `{}` cannot be given as text (it implements neither `TextValue` nor `FromStr`); call this export with typed arguments",
            short_name::<T>()
        ))
    }
}

#[doc(hidden)]
pub trait RenderByTextValue<T> {
    fn render_text(&self, value: &T) -> Result<String, String>;
    fn can_render(&self) -> bool {
        true
    }
}
impl<T: TextValue> RenderByTextValue<T> for &&&Codec<T> {
    fn render_text(&self, value: &T) -> Result<String, String> {
        value.render_text()
    }
}

#[doc(hidden)]
pub trait RenderByDisplay<T> {
    fn render_text(&self, value: &T) -> Result<String, String>;
    fn can_render(&self) -> bool {
        true
    }
}
impl<T: Display> RenderByDisplay<T> for &&Codec<T> {
    fn render_text(&self, value: &T) -> Result<String, String> {
        Ok(value.to_string())
    }
}

#[doc(hidden)]
pub trait RenderByDebug<T> {
    fn render_text(&self, value: &T) -> Result<String, String>;
    fn can_render(&self) -> bool {
        true
    }
}
impl<T: Debug> RenderByDebug<T> for &Codec<T> {
    fn render_text(&self, value: &T) -> Result<String, String> {
        Ok(format!("{value:?}"))
    }
}

#[doc(hidden)]
pub trait RenderUnsupported<T> {
    fn render_text(&self, value: &T) -> Result<String, String>;
    fn can_render(&self) -> bool {
        false
    }
}
impl<T> RenderUnsupported<T> for Codec<T> {
    fn render_text(&self, _value: &T) -> Result<String, String> {
        Err(format!(
            "a `{}` cannot be shown as text (it implements none of `TextValue`, `Display`, `Debug`); call this export with typed arguments",
            short_name::<T>()
        ))
    }
}

/// `type_name` without module paths, for messages: `Option<String>`.
fn short_name<T>() -> String {
    let full = std::any::type_name::<T>();
    let mut out = String::with_capacity(full.len());
    let mut path = String::new();
    for c in full.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            path.push(c);
            continue;
        }
        out.push_str(path.rsplit("::").next().unwrap_or(""));
        path.clear();
        out.push(c);
    }
    out.push_str(path.rsplit("::").next().unwrap_or(""));
    out
}

#[cfg(test)]
// The extra `&`s are the point: they pick the rule (see `Codec`).
#[allow(clippy::needless_borrow)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Point(i32);

    impl FromStr for Point {
        type Err = String;
        fn from_str(text: &str) -> Result<Self, String> {
            text.parse().map(Point).map_err(|_| "not a point".to_string())
        }
    }

    struct Opaque;

    #[test]
    fn rules_apply_in_order() {
        assert_eq!((&&&Codec::<i64>::new()).parse_text("-3"), Ok(-3));
        assert_eq!((&&&Codec::<Point>::new()).parse_text("5"), Ok(Point(5)));
        assert!((&&&Codec::<Point>::new()).can_parse());
        assert!(!(&&&Codec::<Opaque>::new()).can_parse());
        let Err(message) = (&&&Codec::<Opaque>::new()).parse_text("x") else { panic!("Opaque parsed") };
        assert!(message.contains("`Opaque` cannot be given"), "{message}");
        assert_eq!((&&&&Codec::<Point>::new()).render_text(&Point(1)), Ok("Point(1)".to_string()));
        assert_eq!((&&&&Codec::<Vec<u8>>::new()).render_text(&vec![104, 105]), Ok("hi".to_string()));
        assert_eq!((&&&&Codec::<Vec<u8>>::new()).render_text(&vec![255]), Ok("[255]".to_string()));
        assert!(!(&&&&Codec::<Opaque>::new()).can_render());
    }

    #[test]
    fn parse_errors_name_the_type_and_text() {
        let error = (&&&Codec::<u8>::new()).parse_text("300").unwrap_err();
        assert_eq!(error, "`300` is not a valid u8: number too large to fit in target type");
    }

    #[test]
    fn short_names_drop_module_paths() {
        assert_eq!(short_name::<Option<String>>(), "Option<String>");
        assert_eq!(short_name::<Vec<Point>>(), "Vec<Point>");
        assert_eq!(short_name::<(u8, std::collections::HashMap<u8, u8>)>(), "(u8, HashMap<u8, u8>)");
        assert_eq!(short_name::<crate::sync::oneshot::Sender<i64>>(), "Sender<i64>");
    }
}
