//! What the database stores, as the rest of Pujo sees it.

use serde::Serialize;
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Role {
        if s == "admin" { Role::Admin } else { Role::User }
    }
}

/// An account. Serializable because sessions are cached with the account they belong to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub bio: String,
    pub role: Role,
    pub gps_privacy: GpsPrivacy,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
}

/// Who may see an album (and so its photos).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Listed, searchable, visible to everyone.
    Public,
    /// Visible to anyone with the link; never listed or searched.
    Unlisted,
    /// Visible to the owner alone; 404 to everyone else.
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Unlisted => "unlisted",
            Visibility::Private => "private",
        }
    }

    /// The rule every read applies (in SQL elsewhere): a public album opens to anyone
    /// with its id, an unlisted one to anyone with its link key (`album_key`, compared
    /// in constant time with the `given` one), a private one to its owner alone.
    pub fn visible_to(self, owner: i64, viewer: i64, album_key: &str, given: Option<&str>) -> bool {
        match self {
            Visibility::Public => true,
            _ if owner == viewer => true,
            Visibility::Unlisted => given.is_some_and(|key| link_keys_match(album_key, key)),
            Visibility::Private => false,
        }
    }

    pub fn parse(s: &str) -> Visibility {
        match s {
            "public" => Visibility::Public,
            "unlisted" => Visibility::Unlisted,
            _ => Visibility::Private,
        }
    }
}

/// Whether a link key someone gave is the album's, in time that does not depend on
/// where they differ. An album without a key (none should be) matches nothing.
fn link_keys_match(album_key: &str, given: &str) -> bool {
    let (a, b) = (album_key.as_bytes(), given.as_bytes());
    !a.is_empty() && a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// How much of where a photo was taken its viewers learn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GpsPrivacy {
    Hidden,
    /// Rounded to about a kilometre.
    Coarse,
    Exact,
}

impl GpsPrivacy {
    pub fn as_str(self) -> &'static str {
        match self {
            GpsPrivacy::Hidden => "hidden",
            GpsPrivacy::Coarse => "coarse",
            GpsPrivacy::Exact => "exact",
        }
    }

    pub fn parse(s: &str) -> GpsPrivacy {
        match s {
            "exact" => GpsPrivacy::Exact,
            "coarse" => GpsPrivacy::Coarse,
            _ => GpsPrivacy::Hidden,
        }
    }
}

/// A person as others see them next to their things.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct UserRef {
    pub id: i64,
    pub username: String,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct PandalRef {
    pub id: i64,
    pub name: String,
    pub para: String,
    pub city: String,
    pub year: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Pandal {
    pub id: i64,
    pub name: String,
    pub para: String,
    pub city: String,
    pub year: i64,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// Public albums of this pandal.
    pub album_count: i64,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewPandal {
    pub name: String,
    pub para: String,
    pub city: String,
    pub year: i64,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub created_by: Option<i64>,
}

/// A partial change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PandalPatch {
    pub name: Option<String>,
    pub para: Option<String>,
    pub city: Option<String>,
    pub year: Option<i64>,
    pub lat: Option<Option<f64>>,
    pub lon: Option<Option<f64>>,
}

/// The photo that stands for an album in lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Cover {
    pub id: i64,
    pub width: i64,
    pub height: i64,
    pub thumbhash: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Album {
    pub id: i64,
    pub owner: UserRef,
    pub title: String,
    pub description: String,
    pub visibility: Visibility,
    pub pandal: Option<PandalRef>,
    /// The chosen cover, else the newest photo.
    pub cover: Option<Cover>,
    pub photo_count: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// What opens the album when it is unlisted (shown to its owner alone).
    pub link_key: String,
}

#[derive(Debug, Clone)]
pub struct NewAlbum {
    pub owner_id: i64,
    pub title: String,
    pub description: String,
    pub visibility: Visibility,
    pub pandal_id: Option<i64>,
    /// A fresh link key (`auth::random_key`).
    pub link_key: String,
}

#[derive(Debug, Clone, Default)]
pub struct AlbumPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub visibility: Option<Visibility>,
    pub pandal_id: Option<Option<i64>>,
    pub cover_photo_id: Option<Option<i64>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Photo {
    pub id: i64,
    pub album_id: i64,
    pub owner: UserRef,
    pub caption: String,
    pub width: i64,
    pub height: i64,
    pub taken_at: Option<OffsetDateTime>,
    pub exif: serde_json::Value,
    pub sha256: Vec<u8>,
    pub content_type: String,
    pub byte_size: i64,
    pub thumbhash: Option<Vec<u8>>,
    pub gps_privacy: GpsPrivacy,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub allow_original: bool,
    /// The album's visibility, which is the photo's.
    pub visibility: Visibility,
    pub like_count: i64,
    pub comment_count: i64,
    /// Whether the viewer the photo was read for likes it.
    pub liked_by_me: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// The album's link key (what opens it when it is unlisted).
    pub link_key: String,
    /// Who sent it through an upload link (a guest's own words), if a guest did.
    pub guest_name: Option<String>,
    /// The upload link it came through, while that link exists.
    pub upload_link_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewPhoto {
    pub owner_id: i64,
    pub album_id: i64,
    pub caption: String,
    pub width: i64,
    pub height: i64,
    pub taken_at: Option<OffsetDateTime>,
    pub exif: serde_json::Value,
    pub sha256: Vec<u8>,
    pub content_type: String,
    pub byte_size: i64,
    pub thumbhash: Option<Vec<u8>>,
    pub gps_privacy: GpsPrivacy,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

#[derive(Debug, Clone, Default)]
pub struct PhotoPatch {
    pub caption: Option<String>,
    pub gps_privacy: Option<GpsPrivacy>,
    pub allow_original: Option<bool>,
    pub album_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: i64,
    pub photo_id: i64,
    pub author: UserRef,
    pub body: String,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Default)]
pub struct ProfilePatch {
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub gps_privacy: Option<GpsPrivacy>,
}

/// Where a keyset page starts: items with ids below `before`, at most `limit` of them.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub before: Option<i64>,
    pub limit: usize,
}

/// One page of a list, newest first; `next` is the `before` of the following page.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<i64>,
}

/// The EXIF fields anyone is shown, its owner too; anything else a photo's row holds
/// (GPS above all) never is.
pub const SHOWN_EXIF: &[&str] = &["camera", "lens", "exposure", "aperture", "iso", "focal_length"];

impl Photo {
    /// Its EXIF as anyone is shown it (`SHOWN_EXIF`), taken out of the photo.
    pub fn take_shown_exif(&mut self) -> serde_json::Map<String, serde_json::Value> {
        match std::mem::take(&mut self.exif) {
            serde_json::Value::Object(map) => {
                map.into_iter().filter(|(k, _)| SHOWN_EXIF.contains(&k.as_str())).collect()
            }
            _ => serde_json::Map::new(),
        }
    }

    /// Where everyone but its owner sees it was taken (its owner sees `lat` and `lon`):
    /// nowhere when hidden, to two decimals (about 1.1 km north-south) when coarse.
    pub fn location_for_others(&self) -> Option<(f64, f64)> {
        let (lat, lon) = self.lat.zip(self.lon)?;
        match self.gps_privacy {
            GpsPrivacy::Hidden => None,
            GpsPrivacy::Coarse => Some(((lat * 100.0).round() / 100.0, (lon * 100.0).round() / 100.0)),
            GpsPrivacy::Exact => Some((lat, lon)),
        }
    }
}

/// Everything a search found that the viewer may see. Serializable because what
/// nobody sees of a search or pandal page is kept in Redis (`cache::SharedHits`).
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct SearchHits {
    pub photos: Vec<Photo>,
    pub albums: Vec<Album>,
    pub pandals: Vec<Pandal>,
}

/// Counts of pandals by city and by year, for browsing.
#[derive(Debug, Clone, Default)]
pub struct PandalFacets {
    pub cities: Vec<(String, i64)>,
    pub years: Vec<(i64, i64)>,
}

/// Everything one person made, for the download of their own data: what they may
/// see of it all (their own originals' locations included).
#[derive(Debug, Clone, Default)]
pub struct PersonalData {
    pub albums: Vec<OwnAlbum>,
    pub photos: Vec<OwnPhoto>,
    pub comments: Vec<OwnComment>,
    pub likes: Vec<OwnLike>,
}

#[derive(Debug, Clone)]
pub struct OwnAlbum {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub visibility: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct OwnPhoto {
    pub id: i64,
    pub album_id: i64,
    pub caption: String,
    pub width: i64,
    pub height: i64,
    pub taken_at: Option<OffsetDateTime>,
    pub exif: serde_json::Value,
    pub sha256: Vec<u8>,
    pub content_type: String,
    pub byte_size: i64,
    pub gps_privacy: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub allow_original: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// A guest sent it: its original is the stripped copy, for its owner too.
    pub from_guest: bool,
}

#[derive(Debug, Clone)]
pub struct OwnComment {
    pub id: i64,
    pub photo_id: i64,
    pub body: String,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct OwnLike {
    pub photo_id: i64,
    pub created_at: OffsetDateTime,
}
