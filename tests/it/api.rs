//! The JSON API over HTTP, on SQLite and on PostgreSQL: every endpoint's happy path,
//! validation, authorization and paging.

use crate::common;

use common::api::Api;
use common::db::{Backend, spawn_app_with_db};
use http::StatusCode;
use pujo::db::{Database, GpsPrivacy, NewPhoto, Role};
use serde_json::{Value, json};

per_backend!(Backend { sqlite: Sqlite, postgres: Postgres } [
    albums_are_created_changed_and_deleted_by_their_owner_only,
    private_albums_answer_404_to_everyone_else_everywhere,
    unlisted_albums_open_by_link_but_stay_out_of_lists_and_search,
    comments_and_likes_follow_the_photo,
    admins_keep_pandals_and_moderate,
    profile_password_and_leaving,
    pages_follow_cursors_without_duplicates_or_gaps,
    bad_input_is_422_naming_the_field_and_changes_nothing,
    bengali_emoji_and_sql_looking_text_round_trip,
    log_in_is_rate_limited_per_account,
    a_lockout_by_strangers_spares_the_owners_browser,
    parallel_guesses_are_counted_before_they_are_checked,
    locations_show_only_as_the_owner_allows,
]);

/// Adds a photo straight to the database (uploads arrive with the media store).
async fn add_photo(db: &Database, owner: i64, album: i64, caption: &str) -> i64 {
    use sha2::Digest;
    let photo = NewPhoto {
        owner_id: owner,
        album_id: album,
        caption: caption.to_owned(),
        width: 4000,
        height: 3000,
        taken_at: None,
        exif: json!({"camera": "Pixel 9", "lens": "wide", "gps": {"lat": 22.5}}),
        sha256: sha2::Sha256::digest(format!("{album}/{caption}")).to_vec(),
        content_type: "image/jpeg".to_owned(),
        byte_size: 1000,
        thumbhash: None,
        gps_privacy: GpsPrivacy::Hidden,
        lat: Some(22.573_456),
        lon: Some(88.363_891),
    };
    db.create_photo(&photo).await.expect("photo").id
}

async fn make_album(api: &Api<'_>, title: &str, visibility: &str) -> i64 {
    let answer = api.post("/api/v1/albums", json!({"title": title, "visibility": visibility})).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    answer.json()["id"].as_i64().expect("id")
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array().expect("array").iter().map(|v| v["id"].as_i64().expect("id")).collect()
}

async fn albums_are_created_changed_and_deleted_by_their_owner_only(backend: Backend) {
    let (app, _db) = spawn_app_with_db(backend).await;
    let (owner, other, nobody) =
        (Api::register(&app, "uma").await, Api::register(&app, "shiva").await, Api::anonymous(&app));
    let created =
        owner.post("/api/v1/albums", json!({"title": "  Kumartuli 2026 ", "description": "Idols in the making"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let album = created.json();
    assert_eq!(album["title"], "Kumartuli 2026");
    assert_eq!(album["visibility"], "public");
    assert_eq!(album["owner"]["username"], "uma");
    assert_eq!(album["can_edit"], true);
    let path = format!("/api/v1/albums/{}", album["id"]);

    assert_eq!(nobody.post("/api/v1/albums", json!({"title": "x"})).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(other.get(&path).await.json()["can_edit"], false);
    let refused = other.patch(&path, json!({"title": "mine now"})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json()["error"]["code"], "forbidden");
    assert_eq!(other.delete(&path).await.status, StatusCode::FORBIDDEN);
    assert_eq!(nobody.delete(&path).await.status, StatusCode::UNAUTHORIZED);

    let changed = owner.patch(&path, json!({"title": "Kumartuli", "visibility": "unlisted"})).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    assert_eq!(
        (changed.json()["title"].as_str(), changed.json()["visibility"].as_str()),
        (Some("Kumartuli"), Some("unlisted"))
    );
    assert_eq!(changed.json()["description"], "Idols in the making", "untouched fields stay");

    let wrong_method = owner.call("PUT", &path, Some("{}")).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.header("allow"), "GET, PATCH, DELETE, HEAD");

    assert_eq!(owner.delete(&path).await.status, StatusCode::NO_CONTENT);
    assert_eq!(owner.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(owner.delete(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(owner.get("/api/v1/albums/not-a-number").await.status, StatusCode::NOT_FOUND);
}

async fn private_albums_answer_404_to_everyone_else_everywhere(backend: Backend) {
    let (app, db) = spawn_app_with_db(backend).await;
    let (owner, other, nobody) =
        (Api::register(&app, "lakshmi").await, Api::register(&app, "pecha").await, Api::anonymous(&app));
    let album = make_album(&owner, "Ghorer thakur", "private").await;
    let photo = add_photo(&db, owner.id(), album, "thakur boron").await;
    let comment = owner.post(&format!("/api/v1/photos/{photo}/comments"), json!({"body": "amar"})).await;
    assert_eq!(comment.status, StatusCode::CREATED);
    let comment_id = comment.json()["id"].as_i64().expect("id");

    for viewer in [&other, &nobody] {
        for path in [
            format!("/api/v1/albums/{album}"),
            format!("/api/v1/albums/{album}/photos"),
            format!("/api/v1/photos/{photo}"),
            format!("/api/v1/photos/{photo}/comments"),
        ] {
            let answer = viewer.get(&path).await;
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}: {}", answer.text());
            assert_eq!(answer.json()["error"]["code"], "not_found");
        }
        assert!(ids(&viewer.get("/api/v1/albums").await.json()["items"]).is_empty());
        assert!(ids(&viewer.get("/api/v1/albums?owner=lakshmi").await.json()["items"]).is_empty());
        assert!(ids(&viewer.get("/api/v1/photos").await.json()["items"]).is_empty());
        assert!(ids(&viewer.get("/api/v1/users/lakshmi").await.json()["albums"]).is_empty());
        let search = viewer.get("/api/v1/search?q=thakur").await.json();
        assert!(ids(&search["photos"]).is_empty() && ids(&search["albums"]).is_empty(), "{search}");
    }
    // Writes by someone who cannot see it are 404 too, not 403: nothing is revealed.
    assert_eq!(other.put(&format!("/api/v1/photos/{photo}/like")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        other.post(&format!("/api/v1/photos/{photo}/comments"), json!({"body": "hi"})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other.patch(&format!("/api/v1/albums/{album}"), json!({"title": "x"})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other.patch(&format!("/api/v1/photos/{photo}"), json!({"caption": "x"})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(other.delete(&format!("/api/v1/photos/{photo}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(other.delete(&format!("/api/v1/comments/{comment_id}")).await.status, StatusCode::NOT_FOUND);
    // Admins moderate public content; private content stays private even to them.
    db.set_role("pecha", Role::Admin).await.expect("grant");
    assert_eq!(other.get(&format!("/api/v1/photos/{photo}")).await.status, StatusCode::NOT_FOUND);

    assert_eq!(owner.get(&format!("/api/v1/photos/{photo}")).await.status, StatusCode::OK);
    assert_eq!(ids(&owner.get("/api/v1/albums?owner=lakshmi").await.json()["items"]), [album]);
    assert_eq!(ids(&owner.get("/api/v1/search?q=boron").await.json()["photos"]), [photo]);
}

/// Ids are sequential: an unlisted album (its photos, comments, likes) opens with its
/// link key alone, which only its owner is shown, and a rotated key retires the link.
async fn unlisted_albums_open_by_link_but_stay_out_of_lists_and_search(backend: Backend) {
    let (app, db) = spawn_app_with_db(backend).await;
    let (owner, nobody, fan) =
        (Api::register(&app, "saraswati").await, Api::anonymous(&app), Api::register(&app, "hans").await);
    let album = make_album(&owner, "Bhog for friends", "unlisted").await;
    let photo = add_photo(&db, owner.id(), album, "khichuri").await;
    let own = owner.get(&format!("/api/v1/albums/{album}")).await.json();
    let key = own["link_key"].as_str().expect("the owner sees the link key").to_owned();
    assert_eq!(key.len(), 32);

    // By id alone: nothing, exactly as for an album that does not exist.
    for path in [
        format!("/api/v1/albums/{album}"),
        format!("/api/v1/albums/{album}/photos"),
        format!("/api/v1/photos/{photo}"),
        format!("/api/v1/photos/{photo}/comments"),
        format!("/api/v1/albums/{album}?key=0123456789abcdef0123456789abcdef"),
    ] {
        for who in [&nobody, &fan] {
            let answer = who.get(&path).await;
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}: {}", answer.text());
        }
    }
    assert_eq!(fan.put(&format!("/api/v1/photos/{photo}/like")).await.status, StatusCode::NOT_FOUND);
    let too_long = nobody.get(&format!("/api/v1/albums/{album}?key={}", "a".repeat(65))).await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", too_long.text());

    // With the key: the album, its photos (media links carry the key), comments, likes.
    let opened = nobody.get(&format!("/api/v1/albums/{album}?key={key}")).await.json();
    assert_eq!(opened["title"], "Bhog for friends");
    assert!(opened.get("link_key").is_none(), "only the owner is shown the key: {opened}");
    let photos = nobody.get(&format!("/api/v1/albums/{album}/photos?key={key}")).await.json();
    assert_eq!(ids(&photos["items"]), [photo]);
    assert_eq!(photos["items"][0]["urls"]["thumb"], format!("/media/{photo}/thumb?key={key}"));
    assert_eq!(nobody.get(&format!("/api/v1/photos/{photo}?key={key}")).await.json()["visibility"], "unlisted");
    let like = fan.put(&format!("/api/v1/photos/{photo}/like?key={key}")).await;
    assert_eq!(like.status, StatusCode::OK, "{}", like.text());
    let comment = fan.post(&format!("/api/v1/photos/{photo}/comments?key={key}"), json!({"body": "darun"})).await;
    assert_eq!(comment.status, StatusCode::CREATED, "{}", comment.text());
    assert_eq!(
        nobody.get(&format!("/api/v1/photos/{photo}/comments?key={key}")).await.json()["items"][0]["body"],
        "darun"
    );
    let second = fan.post(&format!("/api/v1/photos/{photo}/comments?key={key}"), json!({"body": "oops"})).await.json();
    let mine = format!("/api/v1/comments/{}", second["id"]);
    assert_eq!(fan.delete(&mine).await.status, StatusCode::NOT_FOUND, "without the key the photo is not theirs to see");
    assert_eq!(fan.delete(&format!("{mine}?key={key}")).await.status, StatusCode::NO_CONTENT);

    // Never listed or searched.
    assert!(ids(&nobody.get("/api/v1/albums").await.json()["items"]).is_empty());
    assert!(ids(&nobody.get("/api/v1/photos").await.json()["items"]).is_empty());
    assert!(ids(&nobody.get("/api/v1/search?q=khichuri").await.json()["photos"]).is_empty());
    assert!(ids(&nobody.get("/api/v1/search?q=bhog").await.json()["albums"]).is_empty());

    // Only the owner rotates; the old link then opens nothing, cached or not.
    assert_eq!(fan.post(&format!("/api/v1/albums/{album}/link"), json!({})).await.status, StatusCode::NOT_FOUND);
    let rotated = owner.post(&format!("/api/v1/albums/{album}/link"), json!({})).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text());
    let new_key = rotated.json()["link_key"].as_str().expect("a new key").to_owned();
    assert_ne!(new_key, key);
    assert_eq!(nobody.get(&format!("/api/v1/albums/{album}?key={key}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(nobody.get(&format!("/api/v1/photos/{photo}?key={key}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(nobody.get(&format!("/api/v1/albums/{album}?key={new_key}")).await.status, StatusCode::OK);
}

async fn comments_and_likes_follow_the_photo(backend: Backend) {
    let (app, db) = spawn_app_with_db(backend).await;
    let (owner, fan, nobody) =
        (Api::register(&app, "ganesh").await, Api::register(&app, "mushik").await, Api::anonymous(&app));
    let album = make_album(&owner, "Visarjan", "public").await;
    let photo = add_photo(&db, owner.id(), album, "ganga ghat").await;
    let like = format!("/api/v1/photos/{photo}/like");
    assert_eq!(nobody.put(&like).await.status, StatusCode::UNAUTHORIZED);
    for _ in 0..2 {
        let liked = fan.put(&like).await;
        assert_eq!(liked.status, StatusCode::OK);
        assert_eq!(liked.json(), json!({"like_count": 1, "liked_by_me": true}));
    }
    let seen = fan.get(&format!("/api/v1/photos/{photo}")).await.json();
    assert_eq!((seen["like_count"].as_i64(), seen["liked_by_me"].as_bool()), (Some(1), Some(true)));
    assert_eq!(nobody.get(&format!("/api/v1/photos/{photo}")).await.json()["liked_by_me"], false);
    assert_eq!(fan.delete(&like).await.json(), json!({"like_count": 0, "liked_by_me": false}));
    assert_eq!(fan.delete(&like).await.json()["like_count"], 0);

    let comments = format!("/api/v1/photos/{photo}/comments");
    let posted = fan.post(&comments, json!({"body": "  Asche bochor abar hobe! 🙏 "})).await;
    assert_eq!(posted.status, StatusCode::CREATED, "{}", posted.text());
    assert_eq!(posted.json()["body"], "Asche bochor abar hobe! 🙏");
    let fan_comment = posted.json()["id"].as_i64().expect("id");
    let owner_comment = owner.post(&comments, json!({"body": "ধন্যবাদ"})).await.json()["id"].as_i64().expect("id");
    let listed = nobody.get(&comments).await.json();
    assert_eq!(ids(&listed["items"]), [owner_comment, fan_comment]);
    assert_eq!(listed["items"][0]["can_delete"], false);
    assert_eq!(nobody.post(&comments, json!({"body": "hi"})).await.status, StatusCode::UNAUTHORIZED);
    let empty = fan.post(&comments, json!({"body": "   "})).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.json()["error"]["fields"]["body"].is_string());

    // The author and the photo's owner may delete a comment; nobody else.
    assert_eq!(fan.delete(&format!("/api/v1/comments/{owner_comment}")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(owner.delete(&format!("/api/v1/comments/{fan_comment}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(owner.get(&format!("/api/v1/photos/{photo}")).await.json()["comment_count"], 1);
}

async fn admins_keep_pandals_and_moderate(backend: Backend) {
    let (app, db) = spawn_app_with_db(backend).await;
    let (admin, person) = (Api::register(&app, "admin").await, Api::register(&app, "visitor").await);
    db.set_role("admin", Role::Admin).await.expect("grant");
    let body = json!({"name": "Bagbazar Sarbojanin", "para": "Bagbazar", "city": "Kolkata", "year": 2026, "lat": 22.6, "lon": 88.37});
    assert_eq!(person.post("/api/v1/pandals", body.clone()).await.status, StatusCode::FORBIDDEN);
    let created = admin.post("/api/v1/pandals", body.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let pandal = created.json()["id"].as_i64().expect("id");
    assert_eq!(admin.post("/api/v1/pandals", body).await.status, StatusCode::CONFLICT);
    let bad = admin.post("/api/v1/pandals", json!({"name": "", "city": "Kolkata", "year": 3000, "lat": 100.0})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = &bad.json()["error"]["fields"];
    assert!(fields["name"].is_string() && fields["year"].is_string() && fields["lat"].is_string(), "{fields}");
    let moved = admin.patch(&format!("/api/v1/pandals/{pandal}"), json!({"lat": null, "para": "Uttar"})).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text());
    assert_eq!((moved.json()["lat"].clone(), moved.json()["lon"].clone()), (Value::Null, json!(88.37)));
    assert_eq!(
        person.patch(&format!("/api/v1/pandals/{pandal}"), json!({"year": 2025})).await.status,
        StatusCode::FORBIDDEN
    );

    let album = person.post("/api/v1/albums", json!({"title": "Bagbazar night", "pandal_id": pandal})).await;
    assert_eq!(album.json()["pandal"]["name"], "Bagbazar Sarbojanin");
    let album_id = album.json()["id"].as_i64().expect("id");
    let photo = add_photo(&db, person.id(), album_id, "protima").await;
    let no_pandal = person.post("/api/v1/albums", json!({"title": "x", "pandal_id": 999_999})).await;
    assert_eq!(no_pandal.status, StatusCode::UNPROCESSABLE_ENTITY);

    let page = person.get(&format!("/api/v1/pandals/{pandal}")).await.json();
    assert_eq!(page["pandal"]["album_count"], 1);
    assert_eq!(ids(&page["albums"]), [album_id]);
    assert_eq!(ids(&page["photos"]), [photo]);
    assert_eq!(ids(&person.get("/api/v1/pandals?city=KOLKATA&year=2026").await.json()["items"]), [pandal]);
    let twice = person.get("/api/v1/pandals?year=2026&year=2025").await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(twice.json()["error"]["fields"]["year"].is_string());
    assert!(ids(&person.get("/api/v1/pandals?year=2025").await.json()["items"]).is_empty());
    assert_eq!(person.get("/api/v1/pandals?year=twenty").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let facets = person.get("/api/v1/pandals/facets").await.json();
    assert_eq!(facets, json!({"cities": [{"city": "Kolkata", "count": 1}], "years": [{"year": 2026, "count": 1}]}));
    assert_eq!(ids(&person.get(&format!("/api/v1/photos?pandal={pandal}")).await.json()["items"]), [photo]);
    assert_eq!(ids(&person.get("/api/v1/search?q=bagbazar").await.json()["pandals"]), [pandal]);

    // An admin removes a public photo that is not theirs, but cannot edit it.
    let photo_path = format!("/api/v1/photos/{photo}");
    assert_eq!(admin.patch(&photo_path, json!({"caption": "x"})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(admin.delete(&photo_path).await.status, StatusCode::NO_CONTENT);
    assert_eq!(person.get(&photo_path).await.status, StatusCode::NOT_FOUND);
    // JSON has one number type: 2025.0 is the integer 2025; 2025.5 is no year.
    let float_year = json!({"name": "Kumartuli Park", "city": "Kolkata", "year": 2025.0});
    let created = admin.post("/api/v1/pandals", float_year).await;
    assert_eq!(
        (created.status, created.json()["year"].clone()),
        (StatusCode::CREATED, json!(2025)),
        "{}",
        created.text()
    );
    let half = admin.post("/api/v1/pandals", json!({"name": "Half", "city": "Kolkata", "year": 2025.5})).await;
    assert!(half.json()["error"]["fields"]["year"].is_string(), "{}", half.text());
}

async fn profile_password_and_leaving(backend: Backend) {
    let (app, db) = spawn_app_with_db(backend).await;
    let me = Api::register(&app, "kartik").await;
    let changed =
        me.patch("/api/v1/me", json!({"display_name": "Kartik Thakur", "bio": "ময়ূর", "gps_privacy": "coarse"})).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    assert_eq!(
        (changed.json()["display_name"].as_str(), changed.json()["gps_privacy"].as_str()),
        (Some("Kartik Thakur"), Some("coarse"))
    );
    let bad = me.patch("/api/v1/me", json!({"gps_privacy": "everywhere"})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.json()["error"]["fields"]["gps_privacy"].is_string(), "{}", bad.text());
    let public = Api::anonymous(&app).get("/api/v1/users/KARTIK").await.json();
    assert_eq!(public["user"]["bio"], "ময়ূর");
    assert!(public["user"].get("email").is_none() && public["user"].get("gps_privacy").is_none());
    assert_eq!(Api::anonymous(&app).get("/api/v1/users/nobody").await.status, StatusCode::NOT_FOUND);

    // A second device; changing the password ends it but keeps this one.
    let phone = Api::with_session(&app, &Api::login(&app, "kartik", "shiuli-phool-2026").await);
    let wrong = me
        .call(
            "PUT",
            "/api/v1/me/password",
            Some(&json!({"current_password": "guess", "new_password": "kash-phool-2026"}).to_string()),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.json()["error"]["fields"]["current_password"].is_string());
    let new = json!({"current_password": "shiuli-phool-2026", "new_password": "kash-phool-2026"});
    assert_eq!(me.call("PUT", "/api/v1/me/password", Some(&new.to_string())).await.status, StatusCode::NO_CONTENT);
    assert_eq!(phone.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(me.get("/api/v1/me").await.status, StatusCode::OK);
    assert_eq!(Api::login(&app, "kartik", "shiuli-phool-2026").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(Api::login(&app, "kartik", "kash-phool-2026").await.status, StatusCode::OK);

    // Leaving takes the password and everything the person owns.
    let album = make_album(&me, "Mayur", "public").await;
    add_photo(&db, me.id(), album, "peacock").await;
    let refuse = me.call("DELETE", "/api/v1/me", Some(r#"{"password":"nope"}"#)).await;
    assert_eq!(refuse.status, StatusCode::UNPROCESSABLE_ENTITY);
    let gone = me.call("DELETE", "/api/v1/me", Some(r#"{"password":"kash-phool-2026"}"#)).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text());
    assert!(gone.header("set-cookie").contains("Max-Age=0"));
    assert_eq!(me.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(Api::anonymous(&app).get(&format!("/api/v1/albums/{album}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(Api::login(&app, "kartik", "kash-phool-2026").await.status, StatusCode::UNAUTHORIZED);
}

async fn pages_follow_cursors_without_duplicates_or_gaps(backend: Backend) {
    let (app, db) = spawn_app_with_db(backend).await;
    let owner = Api::register(&app, "jaya").await;
    let album = make_album(&owner, "Ashtami", "public").await;
    let mut expected = Vec::new();
    for i in 0..23 {
        expected.push(add_photo(&db, owner.id(), album, &format!("anjali {i}")).await);
    }
    expected.reverse();
    let mut seen = Vec::new();
    let mut path = format!("/api/v1/albums/{album}/photos?limit=5");
    loop {
        let page = Api::anonymous(&app).get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        let page = page.json();
        seen.extend(ids(&page["items"]));
        add_photo(&db, owner.id(), album, &format!("late {}", seen.len())).await;
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/albums/{album}/photos?limit=5&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, expected);
    for bad in ["limit=0", "limit=101", "limit=x", "cursor=bogus!"] {
        let answer = owner.get(&format!("/api/v1/photos?{bad}")).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(answer.json()["error"]["code"], "validation");
    }
    assert_eq!(owner.get("/api/v1/photos").await.json()["items"].as_array().map(Vec::len), Some(24), "default limit");
}

async fn bad_input_is_422_naming_the_field_and_changes_nothing(backend: Backend) {
    let (app, _db) = spawn_app_with_db(backend).await;
    let me = Api::register(&app, "durga").await;
    let cases = [
        (json!({"title": ""}), "title"),
        (json!({"title": "x".repeat(121)}), "title"),
        (json!({"title": "ok", "visibility": "secret"}), "visibility"),
        (json!({"title": "ok", "owner_id": 1}), "owner_id"),
        (json!({"title": 7}), "title"),
        (json!({"title": "nul \u{0} byte"}), "title"),
        // A name that reads backwards in every list it shows in.
        (json!({"title": "Pandal \u{202E}gpj.exe"}), "title"),
        (json!({"title": "Isolated \u{2066}name\u{2069}"}), "title"),
        (json!({"description": "no title"}), "title"),
    ];
    for (body, field) in cases {
        let answer = me.post("/api/v1/albums", body.clone()).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", answer.text());
        assert_eq!(answer.json()["error"]["code"], "validation");
        assert!(answer.json()["error"]["fields"][field].is_string(), "{body}: {}", answer.text());
    }
    let huge = json!({"title": "ok", "description": "d".repeat(20_000)});
    assert_eq!(me.post("/api/v1/albums", huge).await.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(ids(&me.get("/api/v1/albums?owner=durga").await.json()["items"]).is_empty(), "nothing was created");
    let control = json!({"username": "bell", "email": "bell@pujo.example", "password": "shiuli-phool-2026", "display_name": "\u{7} "});
    let refused = Api::register_with(&app, &control).await;
    assert!(refused.json()["error"]["fields"]["display_name"].is_string(), "{}", refused.text());
    let search = me.get("/api/v1/search?q=").await;
    assert_eq!(search.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(search.json()["error"]["fields"]["q"].is_string());
    let evil = common::send(
        "POST",
        &app.url("/api/v1/albums"),
        &[
            ("content-type", "application/json"),
            ("origin", "https://evil.example"),
            ("cookie", me.cookie.as_deref().unwrap_or("")),
        ],
        bytes::Bytes::from(r#"{"title":"csrf"}"#),
    )
    .await;
    assert_eq!(evil.status, StatusCode::FORBIDDEN);
    assert_eq!(evil.json()["error"]["code"], "csrf");
}

async fn bengali_emoji_and_sql_looking_text_round_trip(backend: Backend) {
    let (app, db) = spawn_app_with_db(backend).await;
    let me = Api::register(&app, "mahalaya").await;
    for title in ["দুর্গা পূজা ২০২৬ 🙏🪔", "Robert'); DROP TABLE albums;--", "100% \"quoted\" \\ back_slash"]
    {
        let created = me.post("/api/v1/albums", json!({"title": title, "description": title})).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
        let read = me.get(&format!("/api/v1/albums/{}", created.json()["id"])).await.json();
        assert_eq!((read["title"].as_str(), read["description"].as_str()), (Some(title), Some(title)));
    }
    let album = make_album(&me, "Mahalaya", "public").await;
    add_photo(&db, me.id(), album, "মহালয়ার ভোর 🌅").await;
    let found = me.get("/api/v1/search?q=%E0%A6%AE%E0%A6%B9%E0%A6%BE%E0%A6%B2%E0%A7%9F%E0%A6%BE%E0%A6%B0").await.json();
    assert_eq!(found["photos"][0]["caption"], "মহালয়ার ভোর 🌅", "{found}");
    assert_eq!(me.get("/api/v1/albums?owner=mahalaya").await.json()["items"].as_array().map(Vec::len), Some(4));
}

async fn log_in_is_rate_limited_per_account(backend: Backend) {
    let (app, _db) = spawn_app_with_db(backend).await;
    Api::register(&app, "mahishasura").await;
    for _ in 0..10 {
        assert_eq!(Api::login(&app, "mahishasura", "wrong password").await.status, StatusCode::UNAUTHORIZED);
    }
    let limited = Api::login(&app, "MAHISHASURA", "shiuli-phool-2026").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    assert_eq!(limited.json()["error"]["code"], "rate_limited");
    let retry: u64 = limited.header("retry-after").parse().expect("Retry-After seconds");
    assert!((1..=900).contains(&retry), "{retry}");
    // Other accounts are not locked out by it.
    Api::register(&app, "durga").await;
    assert_eq!(Api::login(&app, "durga", "shiuli-phool-2026").await.status, StatusCode::OK);
}

async fn locations_show_only_as_the_owner_allows(backend: Backend) {
    let (app, db) = spawn_app_with_db(backend).await;
    let (owner, other) = (Api::register(&app, "photographer").await, Api::register(&app, "viewer").await);
    let album = make_album(&owner, "Pandal hopping", "public").await;
    let photo = add_photo(&db, owner.id(), album, "maddox square").await;
    let path = format!("/api/v1/photos/{photo}");
    let hidden = other.get(&path).await.json();
    assert_eq!(hidden["location"], Value::Null);
    assert!(hidden["exif"].get("gps").is_none(), "{hidden}");
    assert_eq!(hidden["exif"]["camera"], "Pixel 9");
    assert_eq!(hidden["urls"]["original"], Value::Null);
    assert!(hidden.get("gps_privacy").is_none());
    let mine = owner.get(&path).await.json();
    assert_eq!(mine["location"]["lat"], 22.573_456);
    assert_eq!(mine["urls"]["original"], format!("/media/{photo}/original"));

    owner.patch(&path, json!({"gps_privacy": "coarse", "allow_original": true})).await;
    let coarse = other.get(&path).await.json();
    assert_eq!(coarse["location"], json!({"lat": 22.57, "lon": 88.36, "precision": "coarse"}));
    assert_eq!(coarse["urls"]["original"], format!("/media/{photo}/original"));
    owner.patch(&path, json!({"gps_privacy": "exact"})).await;
    assert_eq!(other.get(&path).await.json()["location"]["lon"], 88.363_891);
    let search = Api::anonymous(&app).get("/api/v1/search?q=maddox").await.json();
    assert_eq!(search["photos"][0]["location"]["precision"], "exact");
}

/// Strangers' failures do not lock the owner out of the browser they logged in from
/// before: it carries a device cookie that counts on its own.
async fn a_lockout_by_strangers_spares_the_owners_browser(backend: Backend) {
    let (app, _db) = spawn_app_with_db(backend).await;
    Api::register(&app, "lakshmi").await;
    let before = Api::login(&app, "lakshmi", "shiuli-phool-2026").await;
    let device = before
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.contains("pujo_device="))
        .and_then(|c| c.split(';').next())
        .expect("a device cookie")
        .to_owned();
    for _ in 0..12 {
        assert_ne!(Api::login(&app, "lakshmi", "a stranger's guess").await.status, StatusCode::OK);
    }
    assert_eq!(Api::login(&app, "lakshmi", "shiuli-phool-2026").await.status, StatusCode::TOO_MANY_REQUESTS);
    let body = bytes::Bytes::from(r#"{"login":"lakshmi","password":"shiuli-phool-2026"}"#);
    let headers = [("content-type", "application/json"), ("cookie", device.as_str())];
    let mine = common::send("POST", &app.url("/api/v1/auth/login"), &headers, body).await;
    assert_eq!(mine.status, StatusCode::OK, "the owner's own browser: {}", mine.text());
}

/// Guesses at once are counted before they are checked: of 17 in parallel, at most
/// 10 reach the password check.
async fn parallel_guesses_are_counted_before_they_are_checked(backend: Backend) {
    let (app, _db) = spawn_app_with_db(backend).await;
    Api::register(&app, "saraswati").await;
    let guesses = (0..17).map(|_| Api::login(&app, "saraswati", "wrong at once"));
    let answers = futures_util::future::join_all(guesses).await;
    let checked = answers.iter().filter(|a| a.status == StatusCode::UNAUTHORIZED).count();
    assert!(checked <= 10, "{checked} guesses were checked");
    assert!(answers.iter().all(|a| matches!(a.status, StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS)));
}
