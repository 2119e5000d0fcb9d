//! A cursor over the data part of a Napster message: space-separated fields, where a
//! field may be a "quoted string". Knows nothing of message types; `msg.rs` does.

use crate::wire::WireError;

/// A cursor over space-separated fields, where a field may be a "quoted string".
pub struct Fields<'a> {
    rest: &'a str,
}

impl<'a> Fields<'a> {
    pub fn new(text: &'a str) -> Fields<'a> {
        Fields { rest: text }
    }

    pub fn word(&mut self) -> Result<String, WireError> {
        let t = self.rest.trim_start_matches(' ');
        if t.is_empty() {
            return Err(WireError::Malformed("missing field"));
        }
        let end = t.find(' ').unwrap_or(t.len());
        self.rest = &t[end..];
        Ok(t[..end].to_string())
    }

    pub fn num<N: std::str::FromStr>(&mut self) -> Result<N, WireError> {
        self.word()?
            .parse()
            .map_err(|_| WireError::Malformed("expected a number"))
    }

    pub fn quoted(&mut self) -> Result<String, WireError> {
        let t = self.rest.trim_start_matches(' ');
        let inner = t
            .strip_prefix('"')
            .ok_or(WireError::Malformed("expected a quoted name"))?;
        let end = inner
            .find('"')
            .ok_or(WireError::Malformed("unterminated quote"))?;
        self.rest = &inner[end + 1..];
        Ok(inner[..end].to_string())
    }

    /// Nothing but spaces left.
    pub fn is_done(&self) -> bool {
        self.rest.trim().is_empty()
    }

    /// The message must end here: trailing fields are an error.
    pub fn end(&self) -> Result<(), WireError> {
        if self.is_done() {
            Ok(())
        } else {
            Err(WireError::Malformed("unexpected trailing fields"))
        }
    }
}
