//! `p2plab`: run one node of any architecture of the notes, one per terminal.
//!
//! `p2plab <architecture> <role> [options]`; `p2plab --help` lists them, and
//! `p2plab <architecture> <role> --help` lists a role's options.

mod cli;

use std::process::ExitCode;

const USAGE: &str = "\
p2plab: the P2P chapter of the notes, one node per terminal

Usage: p2plab <architecture> <role> [options]     (add --help after a role for its options)

  distribution     C/S vs P2P distribution-time bounds, table and SVG chart (notes 6.2)
  napster server   the central directory (notes 6.3 集中化目录)
  napster peer     log in, share a folder, search, download straight from a peer
  gnutella node    a Gnutella servent with a prompt: query, ping, neighbours, get, leave
  gnutella cache   a GWebCache-style host cache for joining servents
  kazaa leader     a KaZaA group leader: indexes its children, forwards queries to leaders
  kazaa node       a KaZaA child: uploads its list to a leader, queries, downloads by hash
  dht node         a ring DHT node (Chord): --listen ADDR [--join ADDR] [--bits m], then put/get/lookup
  bt make          make a .torrent: p2plab bt make FILE -o X.torrent --announce URL
  bt show          name, size, pieces and info-hash of a .torrent
  bt tracker       a BitTorrent HTTP tracker (announce, scrape)
  bt seed          seed a torrent: p2plab bt seed X.torrent FILE
  bt get           download a torrent with a progress line: p2plab bt get X.torrent -o DIR
  net up           a testnet: N hosts (network namespaces), links shaped to u_i, d_i (root)
  net down         remove the hosts a crashed run left behind
  share serve      serve a folder over HTTP (/get/<index>/<name>, /uri-res/N2R?urn:sha1:...)

Logging: RUST_LOG=debug p2plab ...";

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().take(2).map(String::as_str).collect();
    let rest = args.get(2..).unwrap_or_default();
    let result = match words[..] {
        ["distribution", ..] => cli::distribution::run(args.get(1..).unwrap_or_default()),
        ["napster", "server"] => cli::napster::server(rest),
        ["napster", "peer"] => cli::napster::peer(rest),
        ["share", "serve"] => cli::share_serve(rest),
        ["bt", "make"] => cli::bt_make(rest),
        ["bt", "show"] => cli::bt_show(rest),
        ["bt", "tracker"] => cli::bt_tracker(rest),
        ["bt", "seed"] => cli::bt_seed(rest),
        ["bt", "get"] => cli::bt_get(rest),
        ["gnutella", "node"] => cli::gnutella_node(rest),
        ["gnutella", "cache"] => cli::gnutella_cache(rest),
        ["dht", "node"] => cli::dht_node(rest),
        ["kazaa", "leader"] => cli::kazaa_leader(rest),
        ["kazaa", "node"] => cli::kazaa_node(rest),
        ["net", "up"] => cli::net_up(rest),
        ["net", "down"] => cli::net_down(rest),
        [] | ["--help"] | ["-h"] | ["help"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown command '{}'\n\n{USAGE}", args.join(" "))),
    };
    p2plab::opts::finish("p2plab", result)
}
