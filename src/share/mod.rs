//! A shared folder (共享文件夹): what a peer offers, how it serves it, how another fetches it.
//!
//! In every unstructured design of the notes (6.3) the directory, the flood or the group
//! leader only says *who* has a file; the file itself then goes straight from peer to
//! peer ("从XX用户处请求文件"). Napster, Gnutella and KaZaA all do that last step through
//! this module, over the HTTP conventions Gnutella and KaZaA servents used:
//!
//! ```text
//!   GET /get/<index>/<name> HTTP/1.1           by the index a search result gave
//!   GET /uri-res/N2R?urn:sha1:<base32> HTTP/1.1  by content hash (KaZaA's "distributed naming")
//! ```
//!
//! - [`Folder`]: scans a directory, gives each file an index, a size and a SHA-1 id,
//!   answers keyword searches (every word must match, case-insensitive).
//! - [`ShareServer`]: the HTTP GET server. It never builds a path from request bytes:
//!   a request names an index or a hash, and only files found by the scan are served.
//! - [`fetch`]: downloads into `.<name>.part`, checks the SHA-1, and only then renames.
//!
//! Simplified here: one request per connection (`Connection: close`), no chunked
//! encoding, and only the top level of the folder is shared.

mod fetch;
mod folder;
mod http;
pub mod ids;
pub mod url;

pub use fetch::{fetch, Download, FetchError};
pub use folder::{keywords, safe_name, Folder, SharedFile};
pub use http::{parse_range, parse_target, HttpConfig, ShareLimits, ShareServer, Target};
