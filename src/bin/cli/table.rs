//! The table of what `p2plab` can run: every architecture of the notes and each of its
//! roles, with the one line the help prints and the function that runs it. Adding a role
//! is adding a row here; `mod.rs` reads the dispatch and every help text from these rows.

use super::{
    bt_get, bt_make, bt_seed, bt_show, bt_tracker, dht_node, distribution, gnutella_cache,
    gnutella_node, kazaa_leader, kazaa_node, napster, net_down, net_up, share_serve,
};

/// What a role runs: its arguments after `p2plab <architecture> <role>`.
pub type Run = fn(&[String]) -> Result<(), String>;

/// An architecture of the notes (or the shared folder underneath them all).
pub struct Architecture {
    /// The word after `p2plab`.
    pub name: &'static str,
    /// Other words for it (`p2plab bittorrent` is `p2plab bt`).
    pub aliases: &'static [&'static str],
    /// One line: the idea and the notes' section.
    pub about: &'static str,
}

/// One role of one architecture: `p2plab <arch> <role> [options]`.
pub struct Command {
    pub arch: &'static str,
    /// Empty when the architecture is one command (`p2plab distribution [options]`).
    pub role: &'static str,
    /// One line: what the role does.
    pub about: &'static str,
    pub run: Run,
}

/// The architectures, in the notes' order.
pub const ARCHITECTURES: &[Architecture] = &[
    Architecture {
        name: "distribution",
        aliases: &[],
        about: "C/S vs P2P distribution time (notes 6.2 文件分发)",
    },
    Architecture {
        name: "napster",
        aliases: &[],
        about: "a central directory, Napster (notes 6.3 集中化目录)",
    },
    Architecture {
        name: "gnutella",
        aliases: &[],
        about: "query flooding, no server, Gnutella 0.6 (notes 6.3 完全分布式)",
    },
    Architecture {
        name: "kazaa",
        aliases: &[],
        about: "group leaders index their children, KaZaA (notes 6.3 混合体)",
    },
    Architecture {
        name: "dht",
        aliases: &[],
        about: "a ring DHT, Chord (notes 6.3 DHT)",
    },
    Architecture {
        name: "bt",
        aliases: &["bittorrent"],
        about: "BitTorrent: tracker, pieces, rarest first, tit-for-tat (notes 6.5)",
    },
    Architecture {
        name: "net",
        aliases: &[],
        about:
            "a testnet: every peer on its own host, links shaped to u_i and d_i (notes 6.2; root)",
    },
    Architecture {
        name: "share",
        aliases: &[],
        about: "a shared folder over HTTP, as every architecture serves its files",
    },
];

/// Every role of every architecture: the dispatch and all the help come from here.
pub const COMMANDS: &[Command] = &[
    Command {
        arch: "distribution",
        role: "",
        about: "both distribution-time bounds for any F, u_s, u, d_min and N: table and SVG chart",
        run: distribution::run,
    },
    Command {
        arch: "napster",
        role: "server",
        about: "the central directory: logins, shared-file lists, searches",
        run: napster::server,
    },
    Command {
        arch: "napster",
        role: "peer",
        about: "log in, share a folder, search, download straight from a peer",
        run: napster::peer,
    },
    Command {
        arch: "gnutella",
        role: "node",
        about: "a servent with a prompt: query, ping, neighbours, get, leave",
        run: gnutella_node,
    },
    Command {
        arch: "gnutella",
        role: "cache",
        about: "a GWebCache-style host cache for joining servents",
        run: gnutella_cache,
    },
    Command {
        arch: "kazaa",
        role: "leader",
        about: "a group leader: indexes its children, forwards queries to other leaders",
        run: kazaa_leader,
    },
    Command {
        arch: "kazaa",
        role: "node",
        about: "a child: uploads its list to a leader, queries, downloads by hash",
        run: kazaa_node,
    },
    Command {
        arch: "dht",
        role: "node",
        about: "a ring node: --listen ADDR [--join ADDR] [--bits m], then put/get/lookup",
        run: dht_node,
    },
    Command {
        arch: "bt",
        role: "make",
        about: "make a .torrent: p2plab bt make FILE -o X.torrent --announce URL",
        run: bt_make,
    },
    Command {
        arch: "bt",
        role: "show",
        about: "name, size, pieces and info-hash of a .torrent",
        run: bt_show,
    },
    Command {
        arch: "bt",
        role: "tracker",
        about: "an HTTP tracker (announce, scrape)",
        run: bt_tracker,
    },
    Command {
        arch: "bt",
        role: "seed",
        about: "seed a torrent: p2plab bt seed X.torrent FILE",
        run: bt_seed,
    },
    Command {
        arch: "bt",
        role: "get",
        about: "download a torrent with a progress line: p2plab bt get X.torrent -o DIR",
        run: bt_get,
    },
    Command {
        arch: "net",
        role: "up",
        about: "make N hosts (network namespaces) on one switch, links shaped to u_i and d_i",
        run: net_up,
    },
    Command {
        arch: "net",
        role: "down",
        about: "remove the hosts a crashed run left behind",
        run: net_down,
    },
    Command {
        arch: "share",
        role: "serve",
        about: "serve a folder over HTTP (/get/<index>/<name>, /uri-res/N2R?urn:sha1:...)",
        run: share_serve,
    },
];

/// The labs, in the notes' order: `p2plab --help` ends with them, so that a student who
/// runs one node by hand also finds the story it belongs to.
pub const LABS: &[(&str, &str, &str)] = &[
    (
        "6.2",
        "distribution",
        "C/S vs P2P distribution time, measured beside the bounds",
    ),
    (
        "6.3",
        "napster",
        "a central directory: search, direct download, bottleneck, SPOF",
    ),
    (
        "6.3",
        "gnutella",
        "query flooding with TTL, Ping/Pong join, reverse path, leave",
    ),
    (
        "6.3",
        "kazaa",
        "group leaders and their children, beside a Gnutella flood",
    ),
    (
        "6.3",
        "dht",
        "a Chord ring: hops, fingers vs successor-only, churn",
    ),
    (
        "6.4",
        "problems",
        "directory, flooding, leaders and the ring on one workload",
    ),
    (
        "6.5",
        "bittorrent",
        "a swarm: rarest first, tit-for-tat, the P2P bound",
    ),
];
