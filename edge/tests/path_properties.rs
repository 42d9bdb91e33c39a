//! Properties of the edge's path normaliser, which every routing decision rests on: whatever
//! a client sends, the result is absolute, has no empty, `.` or `..` segment, and is a fixed
//! point (normalising again changes nothing, so no upstream can decode its way to another
//! route than the one the edge chose).

use ferrocat_edge::routes::normalize_path;
use proptest::prelude::*;

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "/", "//", ".", "..", "%2e", "%2E", "%2f", "%5c", "%25", "%", "%3", "%32", "e", "api", "mcp", "s3", "webhooks", "%00",
            ";", "?", "#", "\\", "~", "%7e", "%41",
        ])
        .prop_map(str::to_owned),
        "[a-z0-9%./]{1,6}",
        "\\PC{1,3}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn normalised_paths_are_absolute_clean_and_fixed_points(pieces in prop::collection::vec(piece(), 0..24)) {
        let raw = pieces.concat();
        let once = normalize_path(&raw);
        prop_assert!(once.starts_with('/'), "{:?} -> {:?}", raw, once);
        prop_assert!(!once.contains("//"), "{:?} -> {:?}", raw, once);
        for segment in once.split('/').skip(1) {
            prop_assert!(segment != "." && segment != "..", "{:?} -> {:?}", raw, once);
        }
        prop_assert_eq!(normalize_path(&once), once.clone(), "not a fixed point: {:?}", raw);
    }
}
