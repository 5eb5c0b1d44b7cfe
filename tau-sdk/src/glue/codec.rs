//! The text rule for each type at a call site where it is concrete (the
//! generated text thunks), by autoref specialisation: see
//! [`TextValue`](crate::plugin::TextValue) for the rules.

use std::fmt::{Debug, Display};
use std::marker::PhantomData;
use std::str::FromStr;

use crate::plugin::TextValue;

/// Picks the text rule for `T` at a call site where `T` is concrete (the
/// generated thunks), by method resolution: the receiver
/// `&&&Codec<T>` first finds the [`TextValue`] impl, then `FromStr` /
/// `Display`, then `Debug`, then the fallback.
pub struct Codec<T>(PhantomData<fn() -> T>);

impl<T> Codec<T> {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Codec(PhantomData)
    }
}

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
