//! The C/S experiment on real sockets, and the SVG chart parsed back.

mod common;

use common::TempDir;
use p2plab::distribution::chart::{svg, Series, Style};
use p2plab::distribution::cs::measure_cs;
use p2plab::distribution::{cs_bound, p2p_bound};

#[test]
fn measured_cs_time_is_never_below_its_bound_and_every_copy_is_right() {
    let src = TempDir::new("dist-src");
    let work = TempDir::new("dist-work");
    let f = 256 * 1024;
    src.file("lecture.mp4", f, 5);
    let us = 4 * 1024 * 1024;
    for n in [1, 4] {
        let run = measure_cs(src.path(), n, us, work.path()).unwrap();
        let bound = cs_bound(f as f64, n, us as f64, f64::INFINITY).seconds;
        assert!(
            run.total.as_secs_f64() >= bound,
            "n = {n}: {:?} beat the bound {bound} s",
            run.total
        );
        assert_eq!(run.finish.len(), n);
        for i in 0..n {
            let copy = work.path().join(format!("client{i}/lecture.mp4"));
            assert_eq!(std::fs::read(copy).unwrap(), common::bytes(f, 5));
        }
    }
}

#[test]
fn the_chart_has_both_bounds_labelled_axes_and_measurements() {
    let ns: Vec<usize> = (1..=30).collect();
    let cs: Vec<(f64, f64)> = ns
        .iter()
        .map(|&n| (n as f64, cs_bound(3600.0, n, 10.0, 20.0).seconds / 3600.0))
        .collect();
    let p2p: Vec<(f64, f64)> = ns
        .iter()
        .map(|&n| {
            (
                n as f64,
                p2p_bound(3600.0, 10.0, 20.0, &vec![1.0; n]).seconds / 3600.0,
            )
        })
        .collect();
    let doc = svg(
        "Minimum distribution time",
        "N (peers)",
        "hours",
        &[
            Series {
                name: "client-server bound".into(),
                color: "#c0392b",
                style: Style::Line,
                points: cs,
            },
            Series {
                name: "P2P bound".into(),
                color: "#2471a3",
                style: Style::Line,
                points: p2p,
            },
            Series {
                name: "C/S measured".into(),
                color: "#c0392b",
                style: Style::Points,
                points: vec![(1.0, 0.1), (2.0, 0.2)],
            },
        ],
    );
    assert!(doc.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(doc.trim_end().ends_with("</svg>"));
    // Each series is a group with its name, holding a polyline (bounds) or circles.
    let group = |name: &str| {
        let start = doc
            .find(&format!("data-name=\"{name}\""))
            .unwrap_or_else(|| panic!("no series {name}"));
        &doc[start..start + doc[start..].find("</g>").unwrap()]
    };
    assert_eq!(group("client-server bound").matches("<polyline").count(), 1);
    assert_eq!(
        group("P2P bound").matches(',').count(),
        30,
        "one point per N"
    );
    assert_eq!(group("C/S measured").matches("<circle").count(), 2);
    assert!(doc.contains(">N (peers)</text>") && doc.contains(">hours</text>"));
    // Tags balance: every opened <g> is closed.
    assert_eq!(doc.matches("<g ").count(), doc.matches("</g>").count());
}

#[test]
fn measured_p2p_time_is_never_below_its_bound() {
    use p2plab::bittorrent::swarm::{run_swarm, SwarmConfig};
    let work = TempDir::new("dist-p2p");
    let mib = 1024 * 1024;
    let mut cfg = SwarmConfig::uniform(
        3,
        2 * mib,
        Some(2 * mib),
        Some(mib),
        work.path().to_path_buf(),
    );
    cfg.seed = 5;
    cfg.time_scale = 0.05;
    let report = run_swarm(&cfg, None).unwrap();
    assert!(report.all_verified, "every copy's SHA-1 matches");
    let bound = p2p_bound(
        2.0 * mib as f64,
        2.0 * mib as f64,
        f64::INFINITY,
        &[mib as f64; 3],
    );
    assert_eq!(report.bound, bound, "the swarm reports the notes' bound");
    let took = report
        .distribution_time
        .expect("the swarm finished")
        .as_secs_f64();
    assert!(
        took >= bound.seconds,
        "{took} s beat the bound {} s",
        bound.seconds
    );
}
