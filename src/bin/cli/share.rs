//! `p2plab share serve`: a folder on its own, for trying the HTTP side with curl.

use super::common::{parse, run_until_stopped};
use getopts::Options;
use p2plab::share::{ids, Folder, HttpConfig, ShareServer};
use std::path::Path;
use std::sync::Arc;

pub fn share_serve(args: &[String]) -> Result<(), String> {
    let mut opts = Options::new();
    opts.optopt("d", "dir", "folder to share (default .)", "DIR");
    opts.optopt(
        "l",
        "listen",
        "address to serve on (default 127.0.0.1:0)",
        "ADDR",
    );
    let Some(m) = parse(
        &mut opts,
        args,
        "Usage: p2plab share serve [--dir DIR] [--listen ADDR]",
    )?
    else {
        return Ok(());
    };
    let dir = m.opt_str("dir").unwrap_or_else(|| ".".into());
    let listen = m.opt_str("listen").unwrap_or_else(|| "127.0.0.1:0".into());
    let folder = Folder::scan(Path::new(&dir)).map_err(|e| format!("cannot scan {dir}: {e}"))?;
    let server = ShareServer::start(Arc::new(folder.clone()), &listen, HttpConfig::default())
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = server.local_addr();
    println!(
        "serving {} files from {dir} on http://{addr}",
        folder.files().len()
    );
    for f in folder.files() {
        println!(
            "  http://{addr}/get/{}/{}  {} bytes  urn:sha1:{}",
            f.index,
            f.name,
            f.size,
            ids::to_base32(&f.sha1)
        );
    }
    run_until_stopped();
    Ok(())
}
