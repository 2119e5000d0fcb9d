//! Stopping the ring and the group leaders (used, then stopped) leaves no thread behind.
//! Alone in its own test binary because it counts the process's threads, which tests
//! running beside it would change.

use p2plab::dht::locate::Ring;
use p2plab::kazaa::locate::Groups;
use p2plab::locate::conformance::stopping_leaves_no_thread;
use p2plab::locate::Design;

#[test]
fn stopping_the_ring_and_the_leaders_leaves_no_thread() {
    let mut ring = || -> Result<Box<dyn Design>, String> { Ok(Box::new(Ring::new(4, 7))) };
    assert_eq!(stopping_leaves_no_thread(&mut ring), Ok(()), "ring");
    let mut groups = || -> Result<Box<dyn Design>, String> {
        Groups::new(4)
            .map(|g| Box::new(g) as Box<dyn Design>)
            .map_err(|e| e.to_string())
    };
    assert_eq!(stopping_leaves_no_thread(&mut groups), Ok(()), "leaders");
    let mut copying = || -> Result<Box<dyn Design>, String> {
        Groups::with_mode(4, p2plab::kazaa::Mode::Copy)
            .map(|g| Box::new(g) as Box<dyn Design>)
            .map_err(|e| e.to_string())
    };
    assert_eq!(
        stopping_leaves_no_thread(&mut copying),
        Ok(()),
        "copying leaders"
    );
}
