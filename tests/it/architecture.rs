//! The layer order in ARCHITECTURE.md is the code's: every `crate::` path in `src/`
//! points to a module in a lower layer than its own (never its own layer, never up).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The layers, top first, from the ```layers block of ARCHITECTURE.md: module -> rank
/// (0 is the top).
fn layers() -> BTreeMap<String, usize> {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let block = doc.split("```layers\n").nth(1).and_then(|rest| rest.split("```").next()).expect("a ```layers block");
    let mut ranks = BTreeMap::new();
    for (rank, line) in block.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let (_, modules) = line.split_once(':').expect("`name: modules`");
        for module in modules.split_whitespace() {
            assert!(ranks.insert(module.to_owned(), rank).is_none(), "{module} is in two layers");
        }
    }
    ranks
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a file's text names through `crate::`, including those in
/// `use crate::{a, b::c}` groups.
fn imports(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let ident = |s: &str| s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>();
    for (i, _) in text.match_indices("crate::") {
        // `$crate::` in a macro is the macro's own crate, not a module path.
        if text[..i].ends_with('$') {
            continue;
        }
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            for item in split_top_level(matching_brace(group)) {
                let name = ident(item.trim());
                if !name.is_empty() {
                    found.push(name);
                }
            }
        } else {
            found.push(ident(rest));
        }
    }
    found
}

/// The text up to the `}` that closes a group whose `{` came just before it.
fn matching_brace(text: &str) -> &str {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return &text[..i],
            '}' => depth -= 1,
            _ => {}
        }
    }
    text
}

/// `a, b::{c, d}, e` -> ["a", "b::{c, d}", "e"].
fn split_top_level(text: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

#[test]
fn every_import_points_down_the_layers_of_architecture_md() {
    let ranks = layers();
    let src = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut broken = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(src).expect("under src");
        let module = relative.components().next().expect("a component").as_os_str().to_string_lossy();
        let module = module.trim_end_matches(".rs").to_owned();
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(&own) = ranks.get(&module) else {
            broken.push(format!("{}: module `{module}` is in no layer of ARCHITECTURE.md", relative.display()));
            continue;
        };
        let text = std::fs::read_to_string(file).expect("read");
        for target in imports(&text) {
            if target == module || target == "self" || target == "super" {
                continue;
            }
            match ranks.get(&target) {
                Some(&rank) if rank > own => {}
                Some(_) => broken.push(format!("{}: `{module}` imports `{target}`, not below it", relative.display())),
                None => broken.push(format!("{}: `crate::{target}` is not a module in a layer", relative.display())),
            }
        }
    }
    assert!(broken.is_empty(), "imports against the layer order:\n{}", broken.join("\n"));
}

#[test]
fn the_import_reader_sees_groups_and_paths() {
    let text = "use crate::{a, b::{c, d}, e::f};\nlet x = crate::g::h();\nmacro_rules! m { () => { $crate::i } }";
    assert_eq!(imports(text), ["a", "b", "e", "g"]);
}

#[test]
fn the_documented_order_keeps_the_heavy_layers_below_their_users() {
    // The order is read from the document, so check the reading itself on a case that
    // must break it: the database layer naming the pipeline.
    let ranks = layers();
    assert!(ranks["db"] > ranks["pipeline"], "db sits below the pipeline");
    assert!(ranks["http"] > ranks["api"] && ranks["media"] > ranks["cache"]);
}
