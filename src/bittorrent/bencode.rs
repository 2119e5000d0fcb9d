//! Bencoding (BEP 3): the format of `.torrent` files and tracker replies.
//!
//! ```text
//!   i42e          integer 42          4:spam     the 4 bytes "spam"
//!   l4:spami7ee   list ["spam", 7]    d1:ai1ee   dict {"a": 1}
//! ```
//!
//! The decoder is strict, because the info-hash is the SHA-1 of the exact bytes: two
//! encodings of one value would give two hashes. So there is one encoding only: no
//! leading zeros, no `-0`, dict keys sorted and unique, nothing after the value. Every
//! error says at which byte it was found. Every length is checked against the bytes
//! that are really left before anything is allocated, and nesting is capped, so a
//! "bencode bomb" costs at most the bytes it actually sent.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

/// Deepest nesting of lists and dicts accepted. Real torrents need 4 (a multi-file
/// `path` list inside a file dict inside `files` inside `info` inside the top dict).
pub const MAX_DEPTH: usize = 32;

/// A bencoded value. Strings are bytes: `pieces` and compact peer lists are binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Bytes(Vec<u8>),
    List(Vec<Value>),
    /// Keys kept sorted by the map, so encoding is canonical by construction.
    Dict(BTreeMap<Vec<u8>, Value>),
}

/// Where decoding failed (byte offset into the input) and which rule was broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BencodeError {
    pub at: usize,
    pub why: &'static str,
}

impl fmt::Display for BencodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad bencode at byte {}: {}", self.at, self.why)
    }
}

impl std::error::Error for BencodeError {}

type Result<T> = std::result::Result<T, BencodeError>;

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Bytes(s.as_bytes().to_vec())
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        self.as_bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    pub fn as_dict(&self) -> Option<&BTreeMap<Vec<u8>, Value>> {
        match self {
            Value::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// `dict[key]`, or `None` when this is not a dict or the key is absent.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_dict().and_then(|d| d.get(key.as_bytes()))
    }
}

/// Decodes exactly one value that fills the whole input.
pub fn decode(input: &[u8]) -> Result<Value> {
    let mut d = Decoder { input, pos: 0 };
    let v = d.value(0)?;
    if d.pos != input.len() {
        return Err(d.err("trailing bytes after the value"));
    }
    Ok(v)
}

/// The byte range of `key`'s value inside a top-level dict, as it stands in the input.
/// The info-hash is the SHA-1 of exactly these bytes.
pub fn dict_value_span(input: &[u8], key: &[u8]) -> Result<Option<Range<usize>>> {
    let mut d = Decoder { input, pos: 0 };
    d.expect(b'd')?;
    while d.peek()? != b'e' {
        let k = d.string()?;
        let start = d.pos;
        d.value(1)?;
        if k == key {
            return Ok(Some(start..d.pos));
        }
    }
    Ok(None)
}

/// Encodes a value canonically.
pub fn encode(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(v, &mut out);
    out
}

fn encode_into(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Int(n) => out.extend_from_slice(format!("i{n}e").as_bytes()),
        Value::Bytes(b) => {
            out.extend_from_slice(format!("{}:", b.len()).as_bytes());
            out.extend_from_slice(b);
        }
        Value::List(items) => {
            out.push(b'l');
            items.iter().for_each(|i| encode_into(i, out));
            out.push(b'e');
        }
        Value::Dict(map) => {
            out.push(b'd');
            for (k, v) in map {
                encode_into(&Value::Bytes(k.clone()), out);
                encode_into(v, out);
            }
            out.push(b'e');
        }
    }
}

struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    fn err(&self, why: &'static str) -> BencodeError {
        BencodeError { at: self.pos, why }
    }

    fn peek(&self) -> Result<u8> {
        self.input
            .get(self.pos)
            .copied()
            .ok_or(self.err("input ends inside a value"))
    }

    fn expect(&mut self, b: u8) -> Result<()> {
        if self.peek()? != b {
            return Err(self.err("unexpected byte"));
        }
        self.pos += 1;
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Value> {
        match self.peek()? {
            b'i' => self.int().map(Value::Int),
            b'0'..=b'9' => self.string().map(|s| Value::Bytes(s.to_vec())),
            b'l' | b'd' if depth >= MAX_DEPTH => Err(self.err("nesting deeper than MAX_DEPTH")),
            b'l' => {
                self.pos += 1;
                let mut items = Vec::new();
                while self.peek()? != b'e' {
                    items.push(self.value(depth + 1)?);
                }
                self.pos += 1;
                Ok(Value::List(items))
            }
            b'd' => {
                self.pos += 1;
                let mut map = BTreeMap::new();
                let mut last: Option<&[u8]> = None;
                while self.peek()? != b'e' {
                    let at = self.pos;
                    let key = self.string()?;
                    if last.is_some_and(|l| key <= l) {
                        return Err(BencodeError {
                            at,
                            why: "dict keys not in strictly ascending order",
                        });
                    }
                    last = Some(key);
                    let v = self.value(depth + 1)?;
                    map.insert(key.to_vec(), v);
                }
                self.pos += 1;
                Ok(Value::Dict(map))
            }
            _ => Err(self.err("expected i, l, d or a digit")),
        }
    }

    /// Digits up to `end`, as one canonical non-negative number.
    fn digits(&mut self, end: u8) -> Result<u64> {
        let start = self.pos;
        let mut n: u64 = 0;
        while self.peek()? != end {
            let c = self.peek()?;
            if !c.is_ascii_digit() {
                return Err(self.err("expected a digit"));
            }
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add((c - b'0') as u64))
                .ok_or(self.err("number too large"))?;
            self.pos += 1;
        }
        let len = self.pos - start;
        if len == 0 {
            return Err(self.err("empty number"));
        }
        if len > 1 && self.input[start] == b'0' {
            return Err(BencodeError {
                at: start,
                why: "leading zero",
            });
        }
        self.pos += 1;
        Ok(n)
    }

    fn int(&mut self) -> Result<i64> {
        self.expect(b'i')?;
        let negative = self.peek()? == b'-';
        if negative {
            self.pos += 1;
        }
        let at = self.pos;
        let n = self.digits(b'e')?;
        if negative && n == 0 {
            return Err(BencodeError { at, why: "-0" });
        }
        let n = i64::try_from(n).map_err(|_| BencodeError {
            at,
            why: "integer out of range",
        })?;
        Ok(if negative { -n } else { n })
    }

    /// A string, borrowed from the input: its length is checked against what is left
    /// before anything is copied.
    fn string(&mut self) -> Result<&'a [u8]> {
        let at = self.pos;
        if !self.peek()?.is_ascii_digit() {
            return Err(self.err("expected a string"));
        }
        let len = self.digits(b':')?;
        let left = (self.input.len() - self.pos) as u64;
        if len > left {
            return Err(BencodeError {
                at,
                why: "string length runs past the end of the input",
            });
        }
        let s = &self.input[self.pos..self.pos + len as usize];
        self.pos += len as usize;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(input: &[u8]) -> (usize, &'static str) {
        let e = decode(input).unwrap_err();
        (e.at, e.why)
    }

    #[test]
    fn round_trips() {
        // d 3:bar 4:spam 3:foo i42e e  -> {"bar": "spam", "foo": 42}
        let bytes = b"d3:bar4:spam3:fooi42ee";
        let v = decode(bytes).unwrap();
        assert_eq!(v.get("bar").unwrap().as_str(), Some("spam"));
        assert_eq!(v.get("foo").unwrap().as_int(), Some(42));
        assert_eq!(encode(&v), bytes);
        let l = decode(b"l4:spami-7e0:lee").unwrap();
        assert_eq!(encode(&l), b"l4:spami-7e0:lee");
    }

    #[test]
    fn integers_have_one_spelling() {
        assert_eq!(decode(b"i0e").unwrap(), Value::Int(0));
        assert_eq!(at(b"i-0e").1, "-0");
        assert_eq!(at(b"i03e"), (1, "leading zero"));
        assert_eq!(at(b"ie").1, "empty number");
        assert_eq!(at(b"i1x2e"), (2, "expected a digit"));
        assert_eq!(at(b"i99999999999999999999e").1, "number too large");
    }

    #[test]
    fn dict_keys_sorted_and_unique() {
        assert_eq!(
            at(b"d3:fooi1e3:bari2ee"),
            (9, "dict keys not in strictly ascending order")
        );
        assert_eq!(
            at(b"d1:ai1e1:ai2ee").1,
            "dict keys not in strictly ascending order"
        );
        assert_eq!(at(b"di1ei2ee").1, "expected a string");
    }

    #[test]
    fn trailing_and_truncated() {
        assert_eq!(at(b"i1ei2e"), (3, "trailing bytes after the value"));
        assert_eq!(at(b"l4:spam"), (7, "input ends inside a value"));
        assert_eq!(at(b"04:spam"), (0, "leading zero"));
    }

    #[test]
    fn bombs_cost_only_what_was_sent() {
        // A string claiming 2^60 bytes: refused by comparing with what is left.
        assert_eq!(
            at(b"1152921504606846976:ab"),
            (0, "string length runs past the end of the input")
        );
        // 100 000 nested lists: refused at MAX_DEPTH, without recursing that deep.
        let mut deep = vec![b'l'; 100_000];
        deep.extend(vec![b'e'; 100_000]);
        assert_eq!(at(&deep), (MAX_DEPTH, "nesting deeper than MAX_DEPTH"));
    }

    #[test]
    fn span_of_a_value() {
        let t = b"d8:announce3:url4:infod4:name1:xee";
        let span = dict_value_span(t, b"info").unwrap().unwrap();
        assert_eq!(&t[span], b"d4:name1:xe");
        assert_eq!(dict_value_span(t, b"nope").unwrap(), None);
    }
}
