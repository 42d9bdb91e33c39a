//! Fuzzes the edge's path normaliser: the result must start with `/`, have no empty, `.` or
//! `..` segment, and normalise to itself (a path that changed on a second pass could reach a
//! different upstream than the one the edge routed to).
#![no_main]

use ferrocat_edge::routes::normalize_path;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let once = normalize_path(raw);
    assert!(once.starts_with('/'));
    assert!(!once.contains("//"));
    assert!(once.split('/').skip(1).all(|s| s != "." && s != ".."));
    assert_eq!(normalize_path(&once), once);
});
