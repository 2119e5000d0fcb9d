//! Every design of notes 6.4, started, used and stopped, leaves no thread behind.
//! Alone in its binary because it counts the process's threads.

mod designs;

use designs::every_design;
use p2plab::locate::conformance::stopping_leaves_no_thread;

macro_rules! stop_each {
    ($($design:ident),* $(,)?) => {{
        let mut failed = Vec::new();
        $(
            let mut make = designs::$design;
            if let Err(e) = stopping_leaves_no_thread(&mut make) {
                failed.push(format!("{}: {e}", stringify!($design)));
            }
        )*
        failed
    }};
}

#[test]
fn every_design_stops_leaving_no_thread() {
    let failed: Vec<String> = every_design!(stop_each);
    assert!(failed.is_empty(), "{failed:#?}");
}
