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

/// How many groups the words of photos' captions fall into for the edge cache: a new
/// photo retires the searches of its words' groups (`Tag::Words`), not every search.
const WORD_GROUPS: u16 = 4096;

/// A group is named by a word's first characters, at most this many: a query's word
/// matches as a prefix, so it shares its first characters (up to its length) with
/// every word it finds.
const GROUP_PREFIX_CHARS: usize = 3;

/// The group of `prefix`: FNV-1a, the same in every process and release.
fn group(prefix: &str) -> u16 {
    let hash = prefix.bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    u16::try_from(hash % u32::from(WORD_GROUPS)).unwrap_or(0)
}

/// Whether `c` is a format character (Unicode's `Cf`: the soft hyphen, the zero-width
/// joiner and non-joiner common in Bengali, bidirectional marks, ...). Word boundaries
/// pass over them, so they stay inside Pujo's words, but SQLite's index splits a word
/// at each one (its tokenizer keeps letters, marks, numbers, punctuation and symbols).
fn is_format(c: char) -> bool {
    matches!(c,
        '\u{AD}' | '\u{600}'..='\u{605}' | '\u{61C}' | '\u{6DD}' | '\u{70F}' | '\u{890}'..='\u{891}' | '\u{8E2}'
        | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' | '\u{110BD}' | '\u{110CD}'
        | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}' | '\u{E0001}'
        | '\u{E0020}'..='\u{E007F}')
}

/// The pieces of `words` between format characters. A query word found as a prefix of
/// an indexed word (PostgreSQL), or each piece of it as a prefix of one of an indexed
/// word's pieces (SQLite), has each of its pieces a prefix of a piece of the words it
/// finds, either way.
fn pieces(words: &[String]) -> impl DoubleEndedIterator<Item = &str> {
    words.iter().flat_map(|w| w.split(is_format)).filter(|p| !p.is_empty())
}

/// `piece` cut to its first `GROUP_PREFIX_CHARS` characters.
fn group_prefix(piece: &str) -> &str {
    &piece[..piece.char_indices().nth(GROUP_PREFIX_CHARS).map_or(piece.len(), |(i, _)| i)]
}

/// The groups a photo whose search text is made of `text` belongs to: those of the
/// first one, two and three characters of each piece of its words. Sorted, each once.
pub fn word_groups(text: &str) -> Vec<u16> {
    let words = words(text);
    let mut groups = Vec::new();
    for piece in pieces(&words) {
        let prefix = group_prefix(piece);
        let ends = prefix.char_indices().map(|(i, _)| i).skip(1).chain([prefix.len()]);
        groups.extend(ends.map(|end| group(&prefix[..end])));
    }
    groups.sort_unstable();
    groups.dedup();
    groups
}

/// The group whose new photos may change the answer to `q`: a photo is found only if
/// each piece of each query word begins a piece of one of its words, so it belongs to
/// the group of every such piece's first characters. The longest piece's is taken (the
/// fewest photos share it). `None` when `q` has no words (it finds nothing).
pub fn query_group(q: &str) -> Option<u16> {
    let words: Vec<String> = words(q).into_iter().take(MAX_QUERY_WORDS).collect();
    let longest = pieces(&words).rev().max_by_key(|p| p.chars().count())?;
    Some(group(group_prefix(longest)))
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

    #[test]
    fn a_query_s_group_is_among_the_groups_of_every_photo_it_finds() {
        for (caption, query) in [
            ("Dhunuchi at Bagbazar", "bagbazar"),
            ("Dhunuchi at Bagbazar", "dhun BAG"),
            ("Dhunuchi at Bagbazar", "b"),
            ("Dhunuchi at Bagbazar", "ba"),
            ("সন্ধি পুজো", "পুজো"),
            ("সন্ধি পুজো", "স"),
            ("Ｆｕｌｌ width", "full"),
            // A soft hyphen and a zero-width joiner: SQLite's index splits words at them.
            ("Kumar\u{AD}tuli", "tuli"),
            ("Kumar\u{AD}tuli", "kumar\u{AD}tu"),
            ("ab cdx", "ab\u{200D}cd"),
            ("ক্\u{200D}ষমা", "ষমা"),
        ] {
            let group = query_group(query).expect("a query with words");
            assert!(word_groups(caption).contains(&group), "{query:?} finds {caption:?}");
        }
        assert_eq!(query_group(" ,; "), None);
        // Different first letters rarely share a group (4,096 of them).
        let groups = word_groups("Dhunuchi at Bagbazar");
        assert_eq!(groups.len(), 8, "d, dh, dhu, a, at, b, ba, bag");
        assert!(!groups.contains(&query_group("kumartuli").expect("words")));
        assert!(word_groups("").is_empty());
    }
}
