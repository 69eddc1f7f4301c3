//! What the API shows of the model, and the small parsers every handler shares: path
//! ids, query strings, keyset cursors, text checks.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::Request;
use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;

use super::ApiError;
use crate::db::{Album, Comment, GpsPrivacy, Page, PageRequest, Pandal, PandalRef, Photo, User, UserRef, Visibility};
use crate::http::PathParams;

/// Items per page when the client does not say, and the most it may ask for.
pub const DEFAULT_LIMIT: usize = 24;
pub const MAX_LIMIT: usize = 100;

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

// ---------------------------------------------------------------- request parts

/// The `i`th `{parameter}` of the matched route.
pub fn path_param<B>(req: &Request<B>, i: usize) -> &str {
    req.extensions().get::<PathParams>().and_then(|p| p.0.get(i)).map_or("", String::as_str)
}

/// A numeric id from the path; anything else names nothing, so it is 404.
/// The album link key a request carries (`?key=`), if any: what opens an unlisted
/// album, its photos and their media to someone who is not its owner. Empty is none;
/// longer than 64 characters is 422, as the API document says.
pub fn link_key<B>(req: &Request<B>) -> Result<Option<String>, ApiError> {
    let Some(raw) = req.uri().query() else { return Ok(None) };
    match form_urlencoded::parse(raw.as_bytes()).find(|(name, _)| name == "key") {
        Some((_, key)) if key.chars().count() > 64 => Err(field("key", "not a link key")),
        Some((_, key)) if !key.is_empty() => Ok(Some(key.into_owned())),
        _ => Ok(None),
    }
}

/// The key to put into an album's media links: an unlisted album's own (whoever reads
/// its JSON already holds it, or owns the album), nothing otherwise.
fn media_key(visibility: Visibility, link_key: &str) -> Option<&str> {
    (visibility == Visibility::Unlisted && !link_key.is_empty()).then_some(link_key)
}

pub fn path_id<B>(req: &Request<B>, i: usize) -> Result<i64, ApiError> {
    path_param(req, i).parse::<i64>().ok().filter(|id| *id > 0).ok_or(ApiError::NotFound)
}

/// A request's query string, decoded, holding only the parameters its endpoint knows.
pub struct Query {
    path: String,
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Decodes the query string. A parameter the endpoint does not take is 422 (so
    /// junk parameters cannot mint new cache keys), and so is one given twice, since
    /// which one the client meant is anyone's guess. Linear in the query's length:
    /// `allowed` is a handful of names.
    pub fn of<B>(req: &Request<B>, allowed: &[&str]) -> Result<Query, ApiError> {
        let raw = req.uri().query().unwrap_or("");
        let mut seen = vec![false; allowed.len()];
        let mut pairs = Vec::new();
        for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
            let Some(i) = allowed.iter().position(|a| *a == name) else {
                let shown: String = name.chars().take(40).collect();
                return Err(field(&shown, "not a parameter of this endpoint"));
            };
            if std::mem::replace(&mut seen[i], true) {
                return Err(field(&name, "given more than once"));
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        pairs.sort();
        Ok(Query { path: req.uri().path().to_owned(), pairs })
    }

    /// The path and the parameters in one spelling (sorted, re-encoded): two requests
    /// that mean the same thing name the same cache entry.
    pub fn canonical(&self) -> String {
        let mut out = self.path.clone();
        if !self.pairs.is_empty() {
            out.push('?');
            out.push_str(&form_urlencoded::Serializer::new(String::new()).extend_pairs(&self.pairs).finish());
        }
        out
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A positive integer parameter, or 422 naming it.
    pub fn id(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(v) => {
                v.parse::<i64>().ok().filter(|n| *n > 0).map(Some).ok_or_else(|| field(name, "a positive whole number"))
            }
        }
    }

    /// `limit`, from 1 to `max`, else `default`.
    pub fn limit(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        match self.get("limit") {
            None | Some("") => Ok(default.min(max)),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| field("limit", &format!("a whole number from 1 to {max}"))),
        }
    }

    /// `limit` (1 to `max`) and `cursor` (from a previous page).
    pub fn page(&self, max: usize) -> Result<PageRequest, ApiError> {
        let limit = self.limit(DEFAULT_LIMIT, max)?;
        let before = match self.get("cursor") {
            None | Some("") => None,
            Some(c) => Some(decode_cursor(c).ok_or_else(|| field("cursor", "not a cursor this API gave out"))?),
        };
        Ok(PageRequest { before, limit })
    }
}

pub(crate) fn field(name: &str, problem: &str) -> ApiError {
    ApiError::Fields(BTreeMap::from([(name.to_owned(), problem.to_owned())]))
}

/// Cursors are opaque to clients: the id a page ended at, in base64url.
pub fn encode_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(id.to_be_bytes())
}

fn decode_cursor(cursor: &str) -> Option<i64> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let id = i64::from_be_bytes(bytes.try_into().ok()?);
    (id > 0).then_some(id)
}

/// A whole number in a JSON body. JSON has one number type, so `2026.0` and `2.026e3`
/// are the same integer as `2026` and are taken as such; `2026.5` is not an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Int(pub i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Int, D::Error> {
        use serde::de::Error;
        let n = serde_json::Number::deserialize(d)?;
        if let Some(i) = n.as_i64() {
            return Ok(Int(i));
        }
        match n.as_f64() {
            Some(f) if f.fract() == 0.0 && (-9_007_199_254_740_992.0..=9_007_199_254_740_992.0).contains(&f) =>
            {
                #[allow(clippy::cast_possible_truncation)]
                Ok(Int(f as i64))
            }
            _ => Err(D::Error::custom(format!("invalid value: {n}, expected a whole number"))),
        }
    }
}

/// For PATCH bodies: a field that is absent stays `None`, an explicit `null` is
/// `Some(None)`.
pub fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

/// Collects what is wrong with a body's fields, to answer them all in one 422.
#[derive(Default)]
pub struct Check(BTreeMap<String, String>);

/// The Unicode bidirectional formatting characters: marks, embeddings, overrides
/// and isolates.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

impl Check {
    /// Text of `min..=max` characters (`min` counts non-blank ones), with no control
    /// characters but newlines and tabs where `multiline`.
    pub fn text(&mut self, name: &str, value: &str, min: usize, max: usize, multiline: bool) {
        let count = value.chars().count();
        let bad_char = value.chars().any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t' || c == '\r')));
        if bad_char {
            self.fail(name, "control characters are not allowed");
        } else if !multiline && value.chars().any(is_bidi_control) {
            // A name shows in lists beside others' names: an override could make it
            // read as something else there ("\u{202E}txt.exe").
            self.fail(name, "bidirectional control characters are not allowed");
        } else if count > max {
            self.fail(name, &format!("at most {max} characters"));
        } else if value.trim().chars().count() < min {
            self.fail(name, &format!("at least {min} characters"));
        }
    }

    pub fn fail(&mut self, name: &str, problem: &str) {
        self.0.entry(name.to_owned()).or_insert_with(|| problem.to_owned());
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() { Ok(()) } else { Err(ApiError::Fields(self.0)) }
    }

    /// The problems found, by field.
    pub fn problems(&self) -> &BTreeMap<String, String> {
        &self.0
    }
}

// ---------------------------------------------------------------- shapes

#[derive(Serialize)]
pub struct PageJson<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> PageJson<T> {
    pub fn of<M>(page: Page<M>, view: impl FnMut(M) -> T) -> PageJson<T> {
        PageJson { items: page.items.into_iter().map(view).collect(), next_cursor: page.next.map(encode_cursor) }
    }
}

#[derive(Serialize)]
pub struct UserRefJson {
    id: i64,
    username: String,
    display_name: String,
}

impl From<UserRef> for UserRefJson {
    fn from(u: UserRef) -> UserRefJson {
        UserRefJson { id: u.id, username: u.username, display_name: u.display_name }
    }
}

/// A person as they see themselves (with email and settings) or as others see them.
#[derive(Serialize)]
pub struct UserJson {
    id: i64,
    username: String,
    display_name: String,
    bio: String,
    role: &'static str,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gps_privacy: Option<&'static str>,
}

impl UserJson {
    pub fn private(u: &User) -> UserJson {
        UserJson { email: Some(u.email.clone()), gps_privacy: Some(u.gps_privacy.as_str()), ..UserJson::public(u) }
    }

    pub fn public(u: &User) -> UserJson {
        UserJson {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            bio: u.bio.clone(),
            role: u.role.as_str(),
            created_at: rfc3339(u.created_at),
            email: None,
            gps_privacy: None,
        }
    }
}

#[derive(Serialize)]
pub struct PandalRefJson {
    id: i64,
    name: String,
    para: String,
    city: String,
    year: i64,
}

impl From<PandalRef> for PandalRefJson {
    fn from(p: PandalRef) -> PandalRefJson {
        PandalRefJson { id: p.id, name: p.name, para: p.para, city: p.city, year: p.year }
    }
}

#[derive(Serialize)]
pub struct PandalJson {
    id: i64,
    name: String,
    para: String,
    city: String,
    year: i64,
    lat: Option<f64>,
    lon: Option<f64>,
    album_count: i64,
    created_at: String,
}

impl From<Pandal> for PandalJson {
    fn from(p: Pandal) -> PandalJson {
        PandalJson {
            id: p.id,
            name: p.name,
            para: p.para,
            city: p.city,
            year: p.year,
            lat: p.lat,
            lon: p.lon,
            album_count: p.album_count,
            created_at: rfc3339(p.created_at),
        }
    }
}

#[derive(Serialize)]
pub struct UrlsJson {
    thumb: String,
    medium: String,
    display: String,
    original: Option<String>,
}

impl UrlsJson {
    fn of(id: i64, original: bool, key: Option<&str>) -> UrlsJson {
        UrlsJson::with_query(id, original, &key.map(|k| format!("?key={k}")).unwrap_or_default())
    }

    /// Through a share link: `?share=` and the link's token (URL-safe as it is).
    fn shared(id: i64, original: bool, token: &str) -> UrlsJson {
        UrlsJson::with_query(id, original, &format!("?share={token}"))
    }

    fn with_query(id: i64, original: bool, query: &str) -> UrlsJson {
        UrlsJson {
            thumb: format!("/media/{id}/thumb{query}"),
            medium: format!("/media/{id}/medium{query}"),
            display: format!("/media/{id}/display{query}"),
            original: original.then(|| format!("/media/{id}/original{query}")),
        }
    }
}

#[derive(Serialize)]
pub struct CoverJson {
    id: i64,
    width: i64,
    height: i64,
    thumbhash: Option<String>,
    urls: UrlsJson,
}

#[derive(Serialize)]
pub struct AlbumJson {
    id: i64,
    owner: UserRefJson,
    title: String,
    description: String,
    visibility: &'static str,
    pandal: Option<PandalRefJson>,
    cover: Option<CoverJson>,
    photo_count: i64,
    created_at: String,
    updated_at: String,
    can_edit: bool,
    /// The owner's alone: the key of the album's link (`/albums/{id}?key=`), the only
    /// way others open it while it is unlisted.
    #[serde(skip_serializing_if = "Option::is_none")]
    link_key: Option<String>,
}

impl AlbumJson {
    pub fn view(a: Album, viewer: i64) -> AlbumJson {
        let own = a.owner.id == viewer;
        let key = media_key(a.visibility, &a.link_key).map(str::to_owned);
        AlbumJson {
            id: a.id,
            can_edit: own,
            link_key: own.then(|| a.link_key.clone()),
            owner: a.owner.into(),
            title: a.title,
            description: a.description,
            visibility: a.visibility.as_str(),
            pandal: a.pandal.map(Into::into),
            cover: a.cover.map(|c| CoverJson {
                id: c.id,
                width: c.width,
                height: c.height,
                thumbhash: c.thumbhash.map(|t| STANDARD.encode(t)),
                urls: UrlsJson::of(c.id, false, key.as_deref()),
            }),
            photo_count: a.photo_count,
            created_at: rfc3339(a.created_at),
            updated_at: rfc3339(a.updated_at),
        }
    }
}

impl AlbumJson {
    /// The album as a share link's holder sees it: as anybody would, with no key of its
    /// own, its cover through the link.
    pub fn shared(a: Album, token: &str) -> AlbumJson {
        let mut json = AlbumJson::view(a, crate::db::NOBODY);
        json.link_key = None;
        if let Some(cover) = &mut json.cover {
            cover.urls = UrlsJson::shared(cover.id, false, token);
        }
        json
    }
}

#[derive(Serialize)]
pub struct LocationJson {
    lat: f64,
    lon: f64,
    precision: &'static str,
}

#[derive(Serialize)]
pub struct PhotoJson {
    id: i64,
    album_id: i64,
    owner: UserRefJson,
    caption: String,
    width: i64,
    height: i64,
    taken_at: Option<String>,
    created_at: String,
    updated_at: String,
    thumbhash: Option<String>,
    exif: serde_json::Map<String, serde_json::Value>,
    location: Option<LocationJson>,
    like_count: i64,
    comment_count: i64,
    liked_by_me: bool,
    urls: UrlsJson,
    visibility: &'static str,
    /// An unlisted photo's album key, for links to it and its comments and likes:
    /// whoever reads this JSON holds the key already or owns the album.
    #[serde(skip_serializing_if = "Option::is_none")]
    link_key: Option<String>,
    can_edit: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    gps_privacy: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allow_original: Option<bool>,
    /// Who sent it through an upload link, in their own words (empty if they gave no
    /// name); absent for the owner's own photos.
    #[serde(skip_serializing_if = "Option::is_none")]
    guest_name: Option<String>,
}

impl PhotoJson {
    pub fn id(&self) -> i64 {
        self.id
    }
}

impl PhotoJson {
    /// The photo as `viewer` may see it: the owner sees the exact location and their
    /// settings; everyone else sees the location only as coarsely as the owner chose.
    pub fn view(mut p: Photo, viewer: i64) -> PhotoJson {
        let own = p.owner.id == viewer;
        let location = match (p.lat, p.lon) {
            (Some(lat), Some(lon)) if own => Some(LocationJson { lat, lon, precision: "exact" }),
            _ => p.location_for_others().map(|(lat, lon)| LocationJson {
                lat,
                lon,
                precision: if p.gps_privacy == GpsPrivacy::Coarse { "coarse" } else { "exact" },
            }),
        };
        let exif = p.take_shown_exif();
        let key = media_key(p.visibility, &p.link_key).map(str::to_owned);
        PhotoJson {
            id: p.id,
            album_id: p.album_id,
            urls: UrlsJson::of(p.id, own || p.allow_original, key.as_deref()),
            link_key: key,
            owner: p.owner.into(),
            caption: p.caption,
            width: p.width,
            height: p.height,
            taken_at: p.taken_at.map(rfc3339),
            created_at: rfc3339(p.created_at),
            updated_at: rfc3339(p.updated_at),
            thumbhash: p.thumbhash.map(|t| STANDARD.encode(t)),
            exif,
            location,
            like_count: p.like_count,
            comment_count: p.comment_count,
            liked_by_me: p.liked_by_me,
            visibility: p.visibility.as_str(),
            can_edit: own,
            gps_privacy: own.then_some(p.gps_privacy.as_str()),
            allow_original: own.then_some(p.allow_original),
            guest_name: p.guest_name,
        }
    }
}

impl PhotoJson {
    /// The photo as a share link's holder sees it: as anybody would (the location only
    /// as coarse as its owner chose), without its album's key (which would outlive the
    /// link), its media through the link; the original (the stripped copy) only when
    /// the link allows downloads.
    pub fn shared(p: Photo, token: &str, allow_download: bool) -> PhotoJson {
        let id = p.id;
        let mut json = PhotoJson::view(p, crate::db::NOBODY);
        json.link_key = None;
        json.urls = UrlsJson::shared(id, allow_download, token);
        json
    }
}

#[derive(Serialize)]
pub struct CommentJson {
    id: i64,
    photo_id: i64,
    author: UserRefJson,
    body: String,
    created_at: String,
    can_delete: bool,
}

impl CommentJson {
    pub fn view(c: Comment, can_delete: bool) -> CommentJson {
        CommentJson {
            id: c.id,
            photo_id: c.photo_id,
            author: c.author.into(),
            body: c.body,
            created_at: rfc3339(c.created_at),
            can_delete,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        assert_eq!(decode_cursor(&encode_cursor(12345)), Some(12345));
        assert_eq!(decode_cursor("not-a-cursor"), None);
        assert_eq!(decode_cursor(&encode_cursor(-4)), None);
        assert_eq!(decode_cursor(""), None);
    }

    #[test]
    fn whole_numbers_may_be_written_as_floats() {
        let parse = |s: &str| serde_json::from_str::<Int>(s).map(|i| i.0).ok();
        assert_eq!(parse("2026"), Some(2026));
        assert_eq!(parse("2026.0"), Some(2026));
        assert_eq!(parse("2.026e3"), Some(2026));
        assert_eq!(parse("2026.5"), None);
        assert_eq!(parse("\"2026\""), None);
        assert_eq!(parse("1e300"), None);
    }

    #[test]
    fn text_checks_name_every_bad_field() {
        let mut c = Check::default();
        c.text("title", "   ", 1, 10, false);
        c.text("caption", "a\u{0}b", 0, 10, true);
        c.text("bio", "line\nline", 0, 20, true);
        c.text("name", "x\ny", 0, 20, false);
        c.text("override", "\u{202E}gpj.exe", 0, 20, false);
        c.text("isolate", "Durga\u{2067}", 0, 20, false);
        c.text("in_a_caption", "\u{202E}allowed in prose", 0, 40, true);
        let Err(ApiError::Fields(fields)) = c.finish() else { panic!("expected fields") };
        assert_eq!(fields.keys().collect::<Vec<_>>(), ["caption", "isolate", "name", "override", "title"]);
        assert!(fields["override"].contains("bidirectional"));
    }
}
