//! `.torrent` files (BEP 3 metainfo): what is shared, cut into pieces, and its info-hash.
//!
//! ```text
//!   d 8:announce <tracker URL>
//!     4:info d 6:length <bytes>            (one file)   or  5:files l d 6:length .. 4:path l ..e e .. e
//!              4:name <file or folder name>
//!              12:piece length <2^18 = 256 KiB in the notes>
//!              6:pieces <20-byte SHA-1 of piece 0><of piece 1>...
//! ```
//!
//! The info-hash names the torrent everywhere (tracker, handshake): the SHA-1 of the
//! `info` value's bytes exactly as they stand in the file, never of a re-encoding.

use super::bencode::{self, BencodeError, Value};
use sha1::{Digest, Sha1};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// The notes' piece size: 256 KiB.
pub const DEFAULT_PIECE_LENGTH: u64 = 256 * 1024;
/// Largest `.torrent` we read: a 256 GiB torrent of 256 KiB pieces needs 20 MiB of
/// hashes; ours and the labs' stay far below.
pub const MAX_TORRENT_BYTES: u64 = 16 * 1024 * 1024;
/// Smallest and largest piece length accepted (powers of two): a peer allocates one
/// piece buffer per piece in flight, so this caps what a torrent can make us allocate.
pub const MIN_PIECE_LENGTH: u64 = 1 << 10;
pub const MAX_PIECE_LENGTH: u64 = 1 << 24;
/// Longest single path component (most file systems allow 255 bytes).
pub const MAX_NAME: usize = 255;

pub type InfoHash = [u8; 20];

/// One file of the torrent, its path relative to the download folder's `name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub path: Vec<String>,
    pub length: u64,
}

/// The `info` dictionary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    /// File name (one file) or folder name (several files).
    pub name: String,
    pub piece_length: u64,
    pub pieces: Vec<[u8; 20]>,
    /// One entry with an empty path for a single-file torrent.
    pub files: Vec<FileEntry>,
    pub multi_file: bool,
}

/// A parsed `.torrent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metainfo {
    pub announce: Option<String>,
    pub info: Info,
    pub info_hash: InfoHash,
}

/// Why a torrent was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetainfoError {
    Bencode(BencodeError),
    /// A required key is missing or has the wrong type.
    Field(&'static str),
    /// A value breaks a rule; the text says which.
    Invalid(&'static str),
}

impl fmt::Display for MetainfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetainfoError::Bencode(e) => write!(f, "{e}"),
            MetainfoError::Field(k) => write!(f, "missing or mistyped field '{k}'"),
            MetainfoError::Invalid(why) => write!(f, "invalid torrent: {why}"),
        }
    }
}

impl std::error::Error for MetainfoError {}

impl From<BencodeError> for MetainfoError {
    fn from(e: BencodeError) -> Self {
        MetainfoError::Bencode(e)
    }
}

type Result<T> = std::result::Result<T, MetainfoError>;

impl Info {
    pub fn total_length(&self) -> u64 {
        self.files.iter().map(|f| f.length).sum()
    }

    pub fn num_pieces(&self) -> usize {
        self.pieces.len()
    }

    /// Length of piece `index` (the last one is usually shorter).
    pub fn piece_size(&self, index: usize) -> u64 {
        let start = index as u64 * self.piece_length;
        (self.total_length() - start).min(self.piece_length)
    }

    /// Where each file lives under `root` (the download folder): `root/name` for one
    /// file, `root/name/dir/.../file` for several. Components were checked on parse.
    pub fn file_paths(&self, root: &std::path::Path) -> Vec<PathBuf> {
        self.files
            .iter()
            .map(|f| {
                let mut p = root.join(&self.name);
                f.path.iter().for_each(|c| p.push(c));
                p
            })
            .collect()
    }

    /// The canonical bencoding of this info dict (what `make` writes).
    pub fn to_value(&self) -> Value {
        let mut d = BTreeMap::new();
        d.insert(b"name".to_vec(), Value::str(&self.name));
        d.insert(
            b"piece length".to_vec(),
            Value::Int(self.piece_length as i64),
        );
        d.insert(b"pieces".to_vec(), Value::Bytes(self.pieces.concat()));
        if self.multi_file {
            let files = self.files.iter().map(|f| {
                let mut fd = BTreeMap::new();
                fd.insert(b"length".to_vec(), Value::Int(f.length as i64));
                let path = f.path.iter().map(|c| Value::str(c)).collect();
                fd.insert(b"path".to_vec(), Value::List(path));
                Value::Dict(fd)
            });
            d.insert(b"files".to_vec(), Value::List(files.collect()));
        } else {
            d.insert(b"length".to_vec(), Value::Int(self.files[0].length as i64));
        }
        Value::Dict(d)
    }
}

impl Metainfo {
    /// Parses a `.torrent`. Refuses anything that could make us write outside the
    /// download folder or allocate beyond the limits above.
    pub fn from_bytes(bytes: &[u8]) -> Result<Metainfo> {
        if bytes.len() as u64 > MAX_TORRENT_BYTES {
            return Err(MetainfoError::Invalid("file larger than MAX_TORRENT_BYTES"));
        }
        let top = bencode::decode(bytes)?;
        let span = bencode::dict_value_span(bytes, b"info")?.ok_or(MetainfoError::Field("info"))?;
        let info_hash: InfoHash = Sha1::digest(&bytes[span]).into();
        let announce = match top.get("announce") {
            None => None,
            Some(v) => Some(
                v.as_str()
                    .ok_or(MetainfoError::Field("announce"))?
                    .to_string(),
            ),
        };
        let info = parse_info(top.get("info").ok_or(MetainfoError::Field("info"))?)?;
        Ok(Metainfo {
            announce,
            info,
            info_hash,
        })
    }

    /// Encodes as a `.torrent`; the info-hash is recomputed from the written bytes.
    pub fn new(info: Info, announce: Option<String>) -> Metainfo {
        let info_hash = Sha1::digest(bencode::encode(&info.to_value())).into();
        Metainfo {
            announce,
            info,
            info_hash,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut top = BTreeMap::new();
        if let Some(a) = &self.announce {
            top.insert(b"announce".to_vec(), Value::str(a));
        }
        top.insert(b"created by".to_vec(), Value::str("p2plab 0.1"));
        top.insert(b"info".to_vec(), self.info.to_value());
        bencode::encode(&Value::Dict(top))
    }
}

fn int_field(d: &Value, key: &'static str) -> Result<u64> {
    let n = d
        .get(key)
        .and_then(Value::as_int)
        .ok_or(MetainfoError::Field(key))?;
    u64::try_from(n).map_err(|_| MetainfoError::Invalid("negative number"))
}

/// A path component from a torrent: it must name one entry inside its folder.
pub fn safe_component(c: &[u8]) -> Result<String> {
    let s = std::str::from_utf8(c).map_err(|_| MetainfoError::Invalid("name is not UTF-8"))?;
    let bad = s.is_empty()
        || s == "."
        || s == ".."
        || s.len() > MAX_NAME
        || s.contains(['/', '\\', '\0'])
        || (s.len() >= 2 && s.as_bytes()[1] == b':'); // "C:" on Windows
    if bad {
        return Err(MetainfoError::Invalid(
            "unsafe path component (empty, '.', '..', separator or too long)",
        ));
    }
    Ok(s.to_string())
}

fn parse_info(d: &Value) -> Result<Info> {
    if d.as_dict().is_none() {
        return Err(MetainfoError::Field("info"));
    }
    let name = safe_component(
        d.get("name")
            .and_then(Value::as_bytes)
            .ok_or(MetainfoError::Field("name"))?,
    )?;
    let piece_length = int_field(d, "piece length")?;
    if !piece_length.is_power_of_two()
        || !(MIN_PIECE_LENGTH..=MAX_PIECE_LENGTH).contains(&piece_length)
    {
        return Err(MetainfoError::Invalid(
            "piece length is not a power of two between 1 KiB and 16 MiB",
        ));
    }
    let hashes = d
        .get("pieces")
        .and_then(Value::as_bytes)
        .ok_or(MetainfoError::Field("pieces"))?;
    if !hashes.len().is_multiple_of(20) {
        return Err(MetainfoError::Invalid(
            "pieces length is not a multiple of 20",
        ));
    }
    let pieces: Vec<[u8; 20]> = hashes
        .chunks_exact(20)
        .map(|c| c.try_into().expect("chunks of 20"))
        .collect();
    let (files, multi_file) = match (d.get("length"), d.get("files")) {
        (Some(_), None) => {
            let length = int_field(d, "length")?;
            (
                vec![FileEntry {
                    path: vec![],
                    length,
                }],
                false,
            )
        }
        (None, Some(list)) => (parse_files(list)?, true),
        _ => {
            return Err(MetainfoError::Invalid(
                "info needs exactly one of 'length' and 'files'",
            ))
        }
    };
    let total = files
        .iter()
        .try_fold(0u64, |a, f| a.checked_add(f.length))
        .ok_or(MetainfoError::Invalid("total length overflows"))?;
    if total == 0 {
        return Err(MetainfoError::Invalid("torrent holds no bytes"));
    }
    if pieces.len() as u64 != total.div_ceil(piece_length) {
        return Err(MetainfoError::Invalid(
            "number of piece hashes does not match the length",
        ));
    }
    Ok(Info {
        name,
        piece_length,
        pieces,
        files,
        multi_file,
    })
}

fn parse_files(list: &Value) -> Result<Vec<FileEntry>> {
    let list = list.as_list().ok_or(MetainfoError::Field("files"))?;
    if list.is_empty() {
        return Err(MetainfoError::Invalid("empty file list"));
    }
    let mut files = Vec::with_capacity(list.len());
    let mut seen = std::collections::HashSet::new();
    for f in list {
        let length = int_field(f, "length")?;
        let parts = f
            .get("path")
            .and_then(Value::as_list)
            .ok_or(MetainfoError::Field("path"))?;
        if parts.is_empty() {
            return Err(MetainfoError::Invalid("empty path"));
        }
        let path = parts
            .iter()
            .map(|c| safe_component(c.as_bytes().ok_or(MetainfoError::Field("path"))?))
            .collect::<Result<Vec<_>>>()?;
        if !seen.insert(path.clone()) {
            return Err(MetainfoError::Invalid("two files with the same path"));
        }
        files.push(FileEntry { path, length });
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn torrent(info: &str) -> Vec<u8> {
        format!("d8:announce17:http://t/announce4:info{info}e").into_bytes()
    }

    #[test]
    fn single_file_and_its_hash() {
        // info: length 5, name "a.txt", piece length 1024, one 20-byte hash.
        let info = format!(
            "d6:lengthi5e4:name5:a.txt12:piece lengthi1024e6:pieces20:{}e",
            "x".repeat(20)
        );
        let m = Metainfo::from_bytes(&torrent(&info)).unwrap();
        assert_eq!(m.info.name, "a.txt");
        assert_eq!(m.info.total_length(), 5);
        assert_eq!(m.info_hash, <[u8; 20]>::from(Sha1::digest(info.as_bytes())));
        assert_eq!(m.announce.as_deref(), Some("http://t/announce"));
        // Writing it again gives the same info bytes, hence the same hash.
        assert_eq!(Metainfo::new(m.info.clone(), None).info_hash, m.info_hash);
    }

    #[test]
    fn multi_file_paths_stay_inside() {
        let files = |path: &str| {
            torrent(&format!(
                "d5:filesld6:lengthi3e4:path{path}ee4:name3:dir12:piece lengthi1024e6:pieces20:{}e",
                "x".repeat(20)
            ))
        };
        let ok = Metainfo::from_bytes(&files("l3:sub5:b.bine")).unwrap();
        assert_eq!(ok.info.files[0].path, ["sub", "b.bin"]);
        let root = std::path::Path::new("/dl");
        assert_eq!(ok.info.file_paths(root)[0], root.join("dir/sub/b.bin"));
        for bad in ["l2:..5:b.bine", "le", "l0:e", "l5:/etc/e", "l4:a\\..e"] {
            assert!(
                matches!(
                    Metainfo::from_bytes(&files(bad)),
                    Err(MetainfoError::Invalid(_))
                ),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn refuses_inconsistent_info() {
        let hash = "x".repeat(20);
        for info in [
            format!("d6:lengthi5e4:name2:..12:piece lengthi1024e6:pieces20:{hash}e"),
            format!("d6:lengthi5e4:name1:a12:piece lengthi1000e6:pieces20:{hash}e"),
            format!("d6:lengthi5000e4:name1:a12:piece lengthi1024e6:pieces20:{hash}e"),
            format!(
                "d6:lengthi5e4:name1:a12:piece lengthi1024e6:pieces19:{}e",
                "x".repeat(19)
            ),
            format!("d6:lengthi-5e4:name1:a12:piece lengthi1024e6:pieces20:{hash}e"),
        ] {
            assert!(Metainfo::from_bytes(&torrent(&info)).is_err(), "{info}");
        }
    }
}
