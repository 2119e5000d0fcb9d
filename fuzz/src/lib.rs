//! The decoders' contracts, shared with the seeded mutation test: `tests/mutation.rs`
//! holds one `check_*` function per decoder (no panic; an `Ok` round-trips), and every
//! target under `fuzz_targets/` calls one of them with libFuzzer's input.

#[path = "../../tests/mutation.rs"]
pub mod checks;
