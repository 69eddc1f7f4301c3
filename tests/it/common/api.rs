//! A small JSON API client for tests: one person's session cookie and the same-origin
//! headers a browser sends.

use bytes::Bytes;

use super::{Answer, TestApp, send};

pub struct Api<'a> {
    pub app: &'a TestApp,
    pub cookie: Option<String>,
    pub user: serde_json::Value,
}

impl<'a> Api<'a> {
    /// Somebody who is not logged in.
    pub fn anonymous(app: &'a TestApp) -> Api<'a> {
        Api { app, cookie: None, user: serde_json::Value::Null }
    }

    /// Registers `username` (password `shiuli-phool-2026`) and keeps the session.
    pub async fn register(app: &'a TestApp, username: &str) -> Api<'a> {
        let body = serde_json::json!({
            "username": username,
            "email": format!("{username}@pujo.example"),
            "password": "shiuli-phool-2026",
        });
        let answer = Api::register_with(app, &body).await;
        assert_eq!(answer.status, http::StatusCode::CREATED, "{}", answer.text());
        Api::with_session(app, &answer)
    }

    /// `POST /api/v1/auth/register` with `body`, as the site sends it: with the proof
    /// of work a registration needs.
    pub async fn register_with(app: &TestApp, body: &serde_json::Value) -> Answer {
        let proof = super::proof(app, "register").await;
        let origin = format!("http://{}", app.addr);
        let headers = [
            ("origin", origin.as_str()),
            ("sec-fetch-site", "same-origin"),
            ("content-type", "application/json"),
            ("x-pujo-proof", proof.as_str()),
        ];
        send("POST", &app.url("/api/v1/auth/register"), &headers, Bytes::from(body.to_string())).await
    }

    /// Logs in and keeps the new session.
    pub async fn login(app: &'a TestApp, login: &str, password: &str) -> Answer {
        let body = serde_json::json!({"login": login, "password": password});
        Api::anonymous(app).call("POST", "/api/v1/auth/login", Some(&body.to_string())).await
    }

    /// The session a register or log-in answer set.
    pub fn with_session(app: &'a TestApp, answer: &Answer) -> Api<'a> {
        let cookie = answer.header("set-cookie").split(';').next().unwrap_or("").to_owned();
        assert!(!cookie.is_empty(), "no session cookie: {}", answer.text());
        Api { app, cookie: Some(cookie), user: answer.json() }
    }

    pub fn id(&self) -> i64 {
        self.user["id"].as_i64().expect("a registered user")
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<&str>) -> Answer {
        let origin = format!("http://{}", self.app.addr);
        let mut headers = vec![("origin", origin.as_str()), ("sec-fetch-site", "same-origin")];
        if let Some(cookie) = &self.cookie {
            headers.push(("cookie", cookie));
        }
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        let body = Bytes::from(body.unwrap_or("").to_owned());
        send(method, &self.app.url(path), &headers, body).await
    }

    /// A request with this person's session and a body of the given type.
    pub async fn send_raw(&self, method: &str, path: &str, content_type: &str, body: Bytes) -> Answer {
        let origin = format!("http://{}", self.app.addr);
        let mut headers = vec![("origin", origin.as_str()), ("content-type", content_type)];
        if let Some(cookie) = &self.cookie {
            headers.push(("cookie", cookie));
        }
        send(method, &self.app.url(path), &headers, body).await
    }

    /// `POST /api/v1/albums/{album}/photos` with `file` parts (name, bytes) and a caption.
    pub async fn upload(&self, album: i64, files: &[(&str, &[u8])], caption: Option<&str>) -> Answer {
        let (content_type, body) = multipart(files, caption);
        self.send_raw("POST", &format!("/api/v1/albums/{album}/photos"), &content_type, body).await
    }

    /// GET with extra headers.
    pub async fn get_with(&self, path: &str, extra: &[(&str, &str)]) -> Answer {
        let mut headers: Vec<(&str, &str)> = extra.to_vec();
        if let Some(cookie) = &self.cookie {
            headers.push(("cookie", cookie));
        }
        super::get(&self.app.url(path), &headers).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> Answer {
        self.call("POST", path, Some(&body.to_string())).await
    }

    pub async fn patch(&self, path: &str, body: serde_json::Value) -> Answer {
        self.call("PATCH", path, Some(&body.to_string())).await
    }

    pub async fn put(&self, path: &str) -> Answer {
        self.call("PUT", path, None).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.call("DELETE", path, None).await
    }
}

impl Api<'_> {
    /// A photo (`bytes`) sent by a guest with no account through a new upload link of
    /// this person's album `album`: what the link answered (201 with the item, waiting
    /// for review).
    pub async fn through_guest_link(&self, album: i64, bytes: &[u8]) -> Answer {
        let link = self.post(&format!("/api/v1/albums/{album}/upload-links"), serde_json::json!({})).await.json();
        let token = link["token"].as_str().expect("a token").to_owned();
        let (content_type, body) = multipart(&[("p.jpg", bytes)], None);
        let origin = format!("http://{}", self.app.addr);
        let proof = super::guest_proof(self.app).await;
        let headers = [("origin", origin.as_str()), ("content-type", content_type.as_str()), ("x-pujo-proof", &proof)];
        send("POST", &self.app.url(&format!("/api/v1/guest/{token}/photos")), &headers, body).await
    }
}

/// A multipart/form-data body: `file` parts and an optional `caption`.
pub fn multipart(files: &[(&str, &[u8])], caption: Option<&str>) -> (String, Bytes) {
    let boundary = "pujo-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    if let Some(caption) = caption {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\n{caption}\r\n").as_bytes(),
        );
    }
    for (name, bytes) in files {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: image/jpeg\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), Bytes::from(body))
}
