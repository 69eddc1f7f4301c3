//! The README is part of the product: its configuration table must list every setting.

#[test]
fn the_readme_lists_every_setting_with_its_flag_and_default() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    for s in pujo::config::SETTINGS {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", s.env_name())))
            .unwrap_or_else(|| panic!("README has no row for {}", s.env_name()));
        assert!(row.contains(&format!("`--{}`", s.key)), "{row}");
        if let Some(default) = s.default {
            assert!(row.contains(&format!("`{default}`")), "README default for {}: {row}", s.env_name());
        }
    }
}

#[test]
fn the_openapi_document_describes_every_route() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/api/openapi.json")).expect("openapi");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    for (template, _) in pujo::api::PUBLIC_ROUTES {
        assert!(doc["paths"][*template].is_object(), "openapi.json has no entry for {template}");
    }
}
