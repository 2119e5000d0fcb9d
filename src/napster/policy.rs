//! The directory's decisions as pure functions: who may log in, which hits a search
//! returns, when a silent newcomer is dropped. State in, decision out; no sockets, no
//! threads. The coordinator (`node/coordinator.rs`) calls these and acts on the answer.
//!
//! Change a rule here and its unit test below, then run `make lab-napster` again.

use super::msg::{Msg, MAX_RESULTS};
use std::time::{Duration, Instant};

/// A logged-in peer, known by the connection it logged in on.
pub type PeerId = u64;

/// Longest accepted nick.
pub const MAX_NICK: usize = 32;

/// The first message of a connection must be a login: `Ok` with the nick to check next,
/// or the text of the login error (type 0) the peer gets before it is dropped.
pub fn first_message(msg: &Msg) -> Result<&str, String> {
    match msg {
        Msg::Login { nick, .. } => check_nick(nick).map(|_| nick.as_str()),
        other => Err(format!(
            "first message must be a login (type 2), got type {}",
            other.kind()
        )),
    }
}

/// Nicks are short words: they are written unquoted in results (type 201).
pub fn check_nick(nick: &str) -> Result<(), String> {
    if nick.len() > MAX_NICK {
        Err(format!("nick longer than {MAX_NICK} bytes"))
    } else if nick.is_empty() || nick.contains(' ') {
        Err("nick must be one word".into())
    } else {
        Ok(())
    }
}

/// Whether a logged-in peer may send `msg`: the requests a client makes. Anything else
/// (a result, an ack) only a server sends, and the answer is an error and a close.
pub fn is_request(msg: &Msg) -> bool {
    matches!(
        msg,
        Msg::Share(_) | Msg::Unshare { .. } | Msg::Search { .. } | Msg::DownloadRequest { .. }
    )
}

/// How many results a search asking for `asked` gets: OpenNap capped it at 100.
pub fn result_limit(asked: u32) -> usize {
    asked.min(MAX_RESULTS) as usize
}

/// Which matching files a search returns: the asker's own files are skipped (it has
/// them already), then the first `max` in the order the directory found them (oldest
/// share first). `matches` yields (owner, file).
pub fn pick_hits<T>(
    matches: impl Iterator<Item = (PeerId, T)>,
    asker: PeerId,
    max: usize,
) -> Vec<T> {
    matches
        .filter(|(owner, _)| *owner != asker)
        .take(max)
        .map(|(_, file)| file)
        .collect()
}

/// A connection that has not logged in by `since + timeout` is dropped: a client that
/// connects and never speaks must not hold two threads for ever.
pub fn login_expired(since: Instant, now: Instant, timeout: Duration) -> bool {
    now.saturating_duration_since(since) >= timeout
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_message_must_be_a_login_with_a_short_nick() {
        let login = |nick: &str| Msg::Login {
            nick: nick.into(),
            password: "pw".into(),
            port: 6699,
            client: "c".into(),
            link: 0,
        };
        assert_eq!(first_message(&login("alice")), Ok("alice"));
        assert!(first_message(&login(&"x".repeat(MAX_NICK + 1)))
            .unwrap_err()
            .contains("longer"));
        let search = Msg::Search {
            words: "x".into(),
            max: 1,
        };
        assert!(first_message(&search).unwrap_err().contains("type 200"));
    }

    #[test]
    fn only_requests_are_accepted_from_a_peer() {
        assert!(is_request(&Msg::Unshare { name: "a".into() }));
        assert!(!is_request(&Msg::SearchEnd));
        assert!(!is_request(&Msg::LoginAck { email: "e".into() }));
    }

    #[test]
    fn hits_skip_the_asker_and_are_capped() {
        let found = [(1, "a1"), (2, "b1"), (1, "a2"), (3, "c1"), (2, "b2")];
        assert_eq!(pick_hits(found.into_iter(), 1, 10), ["b1", "c1", "b2"]);
        assert_eq!(pick_hits(found.into_iter(), 9, 2), ["a1", "b1"]);
        assert_eq!(result_limit(5000), MAX_RESULTS as usize);
        assert_eq!(result_limit(7), 7);
    }

    #[test]
    fn login_deadline() {
        let t = Instant::now();
        let s = Duration::from_secs(1);
        assert!(!login_expired(t, t + Duration::from_millis(999), s));
        assert!(login_expired(t, t + s, s));
    }
}
