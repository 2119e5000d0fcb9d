//! The site's pages as HTML text: pure functions from a [`IndexPage`] or a [`SwarmPage`]
//! to a string, so the tests read them without a socket. Plain HTML and a few lines of
//! CSS; no script. Every text that came from the network (a torrent's name, a peer id,
//! a tracker URL, the Host a browser sent) goes through [`escape`]; the links built
//! from them are percent-encoded first, then escaped.

use super::{IndexPage, PeerRow, Row, SwarmPage, PAGE_REFRESH};
use crate::bittorrent::metadata::Magnet;
use crate::share::ids::to_hex;
use std::fmt::Write;

const CSS: &str = "body{font-family:sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse}th,td{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}\
th{white-space:nowrap}td.n{text-align:right}code{font-size:90%}.dim{color:#888}progress{width:8em}\
a.magnet{word-break:break-all}";

/// `&`, `<`, `>`, `"` and `'` as entities: safe in text and in quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Bytes as a person reads them: `1.5 MiB`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// A peer id as text: printable ASCII kept, other bytes as `%XX` (ids are raw bytes).
pub fn peer_id_text(id: &[u8]) -> String {
    id.iter()
        .map(|&b| match b {
            0x21..=0x7e if b != b'%' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The magnet link of a row: its name, and the tracker it names (else this one).
pub fn magnet(row: &Row, base: &str) -> String {
    let s = row.summary.as_ref();
    let tracker = s
        .and_then(|s| s.announce.clone())
        .unwrap_or_else(|| format!("{base}/announce"));
    Magnet {
        info_hash: row.hash,
        name: s.map(|s| s.name.clone()),
        trackers: vec![tracker],
    }
    .to_link()
}

fn page(title: &str, refresh: bool, body: &str) -> String {
    let meta = if refresh {
        format!("<meta http-equiv=\"refresh\" content=\"{PAGE_REFRESH}\">")
    } else {
        String::new()
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">{meta}\
         <title>{}</title><style>{CSS}</style></head>\n<body>\n{body}</body></html>\n",
        escape(title)
    )
}

/// The front page (BT网站): every torrent the tracker knows.
pub fn index(p: &IndexPage, base: &str) -> String {
    let mut b = String::new();
    let base_t = escape(base);
    let _ = write!(
        b,
        "<h1>p2plab tracker: torrents</h1>\n<p>Announce URL <code>{base_t}/announce</code>. \
         Publish with <code>p2plab bt make FILE --publish {base_t}/</code>.{}</p>\n",
        if p.registered_only {
            " Only the torrents listed here are tracked."
        } else {
            ""
        }
    );
    b.push_str(
        "<table id=\"torrents\"><thead><tr><th>name</th><th>size</th><th>pieces</th>\
         <th>seeders</th><th>leechers</th><th>completed</th><th>get it</th></tr></thead><tbody>\n",
    );
    for row in &p.rows {
        b.push_str(&index_row(row, base));
    }
    b.push_str("</tbody></table>\n");
    if p.rows.is_empty() {
        b.push_str("<p class=\"dim\">No torrent yet.</p>\n");
    }
    if p.hidden > 0 {
        let _ = writeln!(b, "<p class=\"dim\">and {} more not shown</p>", p.hidden);
    }
    page("p2plab tracker", false, &b)
}

fn index_row(row: &Row, base: &str) -> String {
    let hex = to_hex(&row.hash);
    let (name, size_t, pieces, file) = match &row.summary {
        Some(s) => (
            escape(&s.name),
            size(s.size),
            s.pieces.to_string(),
            format!("<a href=\"/torrent/{hex}.torrent\">.torrent</a> "),
        ),
        None => (
            format!("<code>{hex}</code> <span class=\"dim\">(announced, not published)</span>"),
            "–".into(),
            "–".into(),
            String::new(),
        ),
    };
    format!(
        "<tr class=\"torrent\" data-info-hash=\"{hex}\"><td><a href=\"/torrent/{hex}\">{name}</a></td>\
         <td class=\"n\">{size_t}</td><td class=\"n\">{pieces}</td><td class=\"n\">{}</td>\
         <td class=\"n\">{}</td><td class=\"n\">{}</td><td>{file}<a class=\"magnet\" href=\"{}\">magnet</a></td></tr>\n",
        row.seeds,
        row.leechers,
        row.completed,
        escape(&magnet(row, base))
    )
}

/// One torrent's page: its swarm's peers and how far each has come; it reloads itself
/// every [`PAGE_REFRESH`] seconds while open.
pub fn swarm(p: &SwarmPage, base: &str) -> String {
    let r = &p.row;
    let hex = to_hex(&r.hash);
    let title = r.summary.as_ref().map_or(hex.clone(), |s| s.name.clone());
    let mut b = format!(
        "<p><a href=\"/\">all torrents</a></p>\n<h1>{}</h1>\n<table>\n",
        escape(&title)
    );
    let mut fact = |k: &str, v: String| {
        let _ = writeln!(b, "<tr><th>{k}</th><td>{v}</td></tr>");
    };
    fact("info-hash", format!("<code>{hex}</code>"));
    if let Some(s) = &r.summary {
        fact("size", format!("{} ({} bytes)", size(s.size), s.size));
        fact("pieces", format!("{} × {}", s.pieces, size(s.piece_length)));
        fact("files", s.files.to_string());
        fact(
            "get it",
            format!("<a href=\"/torrent/{hex}.torrent\">.torrent</a>"),
        );
    }
    fact(
        "magnet",
        format!(
            "<a class=\"magnet\" href=\"{0}\">{0}</a>",
            escape(&magnet(r, base))
        ),
    );
    fact(
        "swarm",
        format!(
            "<span id=\"peers\">{}</span> peers: {} seeders, {} leechers; {} completed",
            r.seeds + r.leechers,
            r.seeds,
            r.leechers,
            r.completed
        ),
    );
    b.push_str(
        "</table>\n<h2>Peers</h2>\n<table id=\"swarm\"><thead><tr><th>address</th>\
                <th>peer id</th><th>left</th><th>progress</th><th>heard</th></tr></thead><tbody>\n",
    );
    let total = r.summary.as_ref().map(|s| s.size);
    for peer in &p.peers {
        b.push_str(&peer_row(peer, total));
    }
    b.push_str("</tbody></table>\n");
    if p.hidden > 0 {
        let _ = writeln!(b, "<p class=\"dim\">and {} more not shown</p>", p.hidden);
    }
    let _ = writeln!(
        b,
        "<p class=\"dim\">This page reloads every {PAGE_REFRESH} s.</p>"
    );
    page(&title, true, &b)
}

fn peer_row(p: &PeerRow, total: Option<u64>) -> String {
    let progress = match total {
        Some(t) if t > 0 => {
            let pct = (t - p.left.min(t)) as f64 * 100.0 / t as f64;
            format!("<progress value=\"{pct:.1}\" max=\"100\"></progress> {pct:.1} %")
        }
        _ if p.left == 0 => "seed".into(),
        _ => "?".into(),
    };
    format!(
        "<tr class=\"peer\"><td>{}</td><td><code>{}</code></td><td class=\"n\">{}</td>\
         <td>{progress}</td><td class=\"n\">{:.0} s ago</td></tr>\n",
        p.addr,
        escape(&peer_id_text(&p.id)),
        size(p.left),
        p.heard_ago.as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    use super::super::catalog::Summary;
    use super::*;
    use std::time::Duration;

    fn row(name: &str) -> Row {
        Row {
            hash: [0xab; 20],
            summary: Some(Summary {
                name: name.into(),
                size: 3 << 20,
                pieces: 12,
                piece_length: 1 << 18,
                files: 1,
                announce: Some("http://127.0.0.1:6969/announce".into()),
            }),
            seeds: 1,
            leechers: 2,
            completed: 3,
        }
    }

    #[test]
    fn escapes_what_came_from_the_network() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        let html = index(
            &IndexPage {
                rows: vec![row("<b>evil</b>\"")],
                hidden: 0,
                registered_only: false,
            },
            "http://h:1",
        );
        assert!(html.contains("&lt;b&gt;evil&lt;/b&gt;&quot;"));
        assert!(!html.contains("<b>evil"));
        // The name in the magnet link is percent-encoded, so no quote ends the href.
        assert!(html.contains("dn=%3Cb%3Eevil%3C%2Fb%3E%22"));
    }

    #[test]
    fn a_row_shows_the_counts_and_both_links() {
        let r = row("song.mp3");
        let html = index_row(&r, "http://h:1");
        let hex = "ab".repeat(20);
        for want in [
            ">song.mp3</a>",
            "3.0 MiB",
            ">12<",
            ">1<",
            ">2<",
            ">3<",
            &format!("href=\"/torrent/{hex}.torrent\""),
            &format!("magnet:?xt=urn:btih:{hex}&amp;dn=song.mp3&amp;tr=http%3A%2F%2F127.0.0.1%3A6969%2Fannounce"),
        ] {
            assert!(html.contains(want), "{want} not in {html}");
        }
        let bare = Row { summary: None, ..r };
        let html = index_row(&bare, "http://h:1");
        assert!(html.contains("not published") && !html.contains(".torrent\""));
        assert!(
            html.contains("tr=http%3A%2F%2Fh%3A1%2Fannounce"),
            "this tracker"
        );
    }

    #[test]
    fn the_swarm_page_refreshes_and_shows_progress_from_left() {
        let p = SwarmPage {
            row: row("f"),
            peers: vec![PeerRow {
                addr: "127.0.0.1:7001".parse().unwrap(),
                id: *b"-PL0001-<x>\x00\xff-------",
                left: 3 << 19, // half of 3 MiB
                heard_ago: Duration::from_secs(2),
            }],
            hidden: 0,
        };
        let html = swarm(&p, "http://h:1");
        assert!(html.contains(&format!(
            "http-equiv=\"refresh\" content=\"{PAGE_REFRESH}\""
        )));
        assert!(html.contains("value=\"50.0\""));
        assert!(html.contains("-PL0001-&lt;x&gt;%00%FF-------"));
        assert!(html.contains("<span id=\"peers\">3</span>"));
    }

    #[test]
    fn sizes() {
        assert_eq!(size(10), "10 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(1 << 30), "1.0 GiB");
    }
}
