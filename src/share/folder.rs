//! The shared folder: scanned once, then read-only.

use super::ids::{sha1_file, Sha1Id};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// One shared file as peers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedFile {
    /// Position in the folder's list; `/get/<index>/<name>` asks for it.
    pub index: u32,
    pub name: String,
    pub size: u64,
    /// The content id: same bytes, same id, whatever the file is called.
    pub sha1: Sha1Id,
}

/// The files of one directory, sorted by name so indices are stable between runs.
#[derive(Debug, Clone)]
pub struct Folder {
    root: PathBuf,
    files: Vec<SharedFile>,
}

impl Folder {
    /// Scans the top level of `root`: regular files only, not hidden ones (`.x.part` is
    /// a download in progress) and not symbolic links (they could lead out of the folder).
    pub fn scan(root: &Path) -> io::Result<Folder> {
        let mut names = Vec::new();
        for entry in fs::read_dir(root)? {
            let entry = entry?;
            let meta = fs::symlink_metadata(entry.path())?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue; // not UTF-8: cannot be named in a text protocol
            };
            if meta.is_file() && safe_name(&name).is_some() && !name.starts_with('.') {
                names.push((name, meta.len()));
            }
        }
        names.sort();
        let mut files = Vec::with_capacity(names.len());
        for (i, (name, size)) in names.into_iter().enumerate() {
            let sha1 = sha1_file(&root.join(&name))?;
            files.push(SharedFile {
                index: i as u32,
                name,
                size,
                sha1,
            });
        }
        Ok(Folder {
            root: root.to_path_buf(),
            files,
        })
    }

    /// A folder with no files, for a peer that only downloads.
    pub fn empty(root: &Path) -> Folder {
        Folder {
            root: root.to_path_buf(),
            files: Vec::new(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn files(&self) -> &[SharedFile] {
        &self.files
    }

    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    pub fn by_index(&self, index: u32) -> Option<&SharedFile> {
        self.files.get(index as usize)
    }

    pub fn by_sha1(&self, id: &Sha1Id) -> Option<&SharedFile> {
        self.files.iter().find(|f| &f.sha1 == id)
    }

    /// Where a listed file lives. Only files from the scan have a path: a name from the
    /// wire is never joined to the root.
    pub fn path_of(&self, file: &SharedFile) -> PathBuf {
        self.root.join(&file.name)
    }

    /// Files whose names contain every keyword of `query` (see [`keywords`]).
    pub fn search(&self, query: &str) -> Vec<&SharedFile> {
        let want = keywords(query);
        if want.is_empty() {
            return Vec::new();
        }
        self.files
            .iter()
            .filter(|f| {
                let have = keywords(&f.name);
                want.iter().all(|w| have.contains(w))
            })
            .collect()
    }
}

/// The words of a file name or a query: runs of letters and digits, lower-cased.
/// `"Abbey_Road-1969.mp3"` has the words `abbey`, `road`, `1969`, `mp3`.
pub fn keywords(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// `Some(name)` if `name` can be a file name inside a folder: not empty, not `.` or
/// `..`, no path separator, no NUL, at most 255 bytes. Every name that came from a peer
/// passes here before it touches the disk.
pub fn safe_name(name: &str) -> Option<&str> {
    let bad = name.is_empty()
        || name == "."
        || name == ".."
        || name.len() > 255
        || name.contains(['/', '\\', '\0']);
    (!bad).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_split_and_lower() {
        assert_eq!(
            keywords("Abbey_Road-1969.mp3"),
            ["abbey", "road", "1969", "mp3"]
        );
    }

    #[test]
    fn unsafe_names() {
        for bad in ["", ".", "..", "a/b", "..\\x", "/etc/passwd", "a\0b"] {
            assert_eq!(safe_name(bad), None, "{bad:?}");
        }
        assert_eq!(safe_name("song.mp3"), Some("song.mp3"));
    }

    #[test]
    fn search_needs_every_word() {
        let dir = std::env::temp_dir().join(format!("p2plab-folder-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("Abbey Road.mp3"), b"x").unwrap();
        fs::write(dir.join("Road Trip.ogg"), b"yy").unwrap();
        fs::write(dir.join(".hidden.part"), b"z").unwrap();
        let f = Folder::scan(&dir).unwrap();
        assert_eq!(f.files().len(), 2);
        let names: Vec<_> = f.search("road").iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["Abbey Road.mp3", "Road Trip.ogg"]);
        assert_eq!(f.search("ROAD abbey").len(), 1);
        assert!(f.search("").is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }
}
