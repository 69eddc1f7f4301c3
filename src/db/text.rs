//! Words for full-text search, found the same way for both backends.
//!
//! Pujo splits text itself (Unicode word boundaries, NFKC, lower case) instead of
//! trusting each database's parser: Postgres' default parser and SQLite's `unicode61`
//! both cut Bengali words at vowel signs and viramas, and their results differ by
//! locale. The databases index the words as given, with no stemming, and queries match
//! word prefixes, so "দুর্গ" finds "দুর্গাপূজা" and "kol" finds "Kolkata".

use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// At most this many words of a query count; the rest are ignored.
const MAX_QUERY_WORDS: usize = 8;

/// Longest word kept, in bytes: words are cut to this (at a character boundary) when
/// indexed and when searched for, the same on both backends. Postgres refuses a
/// `tsquery` word over 2 KB and drops longer ones from a `tsvector`, and NFKC can
/// make one character into eighteen, so a 200-character query could otherwise fail.
pub const MAX_WORD_BYTES: usize = 200;

/// The words of `text`, normalised, each at most `MAX_WORD_BYTES` long.
pub fn words(text: &str) -> Vec<String> {
    let normalised: String = text.nfkc().collect::<String>().to_lowercase();
    normalised.unicode_words().map(|w| cut(w, MAX_WORD_BYTES).to_owned()).collect()
}

/// `word` cut to at most `max` bytes, at a character boundary.
fn cut(word: &str, max: usize) -> &str {
    if word.len() <= max {
        return word;
    }
    let mut end = max;
    while !word.is_char_boundary(end) {
        end -= 1;
    }
    &word[..end]
}

/// The `search_text` column for the given fields: their words, one space apart.
pub fn search_text(fields: &[&str]) -> String {
    let mut out = String::new();
    for field in fields {
        for word in words(field) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&word);
        }
    }
    out
}

/// A Postgres `tsquery` that matches rows holding every word of `q` as a prefix, or
/// `None` when `q` has no words.
pub fn pg_query(q: &str) -> Option<String> {
    let terms: Vec<String> = words(q)
        .into_iter()
        .take(MAX_QUERY_WORDS)
        .map(|w| format!("'{}':*", w.replace('\\', "\\\\").replace('\'', "''")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" & "))
}

/// The same query in FTS5's syntax.
pub fn fts5_query(q: &str) -> Option<String> {
    let terms: Vec<String> =
        words(q).into_iter().take(MAX_QUERY_WORDS).map(|w| format!("\"{}\"*", w.replace('"', "\"\""))).collect();
    (!terms.is_empty()).then(|| terms.join(" AND "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bengali_words_stay_whole() {
        assert_eq!(words("দুর্গাপূজা, কলকাতা!"), ["দুর্গাপূজা", "কলকাতা"]);
        assert_eq!(search_text(&["Bagbazar Sarbojanin", "উত্তর কলকাতা 2025"]), "bagbazar sarbojanin উত্তর কলকাতা 2025");
    }

    #[test]
    fn long_words_are_cut_the_same_way_for_index_and_query() {
        // U+FDFA is one character that NFKC turns into eighteen (33 bytes).
        let q = "\u{FDFA}".repeat(200);
        let w = words(&q);
        assert!(w.iter().all(|w| w.len() <= MAX_WORD_BYTES), "{:?}", w.iter().map(String::len).collect::<Vec<_>>());
        let long = "দুর্গা".repeat(100);
        let indexed = search_text(&[&long]);
        assert!(indexed.len() <= MAX_WORD_BYTES && long.starts_with(&indexed));
        assert_eq!(words(&long), [indexed], "a query for the word finds what was indexed");
        assert!(pg_query(&q).is_some_and(|t| t.len() < 2048 * MAX_QUERY_WORDS));
    }

    #[test]
    fn queries_quote_every_word() {
        assert_eq!(pg_query("it's Kol").as_deref(), Some("'it''s':* & 'kol':*"));
        assert_eq!(fts5_query("\"x\" OR y").as_deref(), Some("\"x\"* AND \"or\"* AND \"y\"*"));
        assert_eq!(pg_query("  ,;  "), None);
    }
}
