//! The HTTP side of the command line: one server, one optional bearer token, and the API's
//! error bodies turned into [`CliError`]s that say what the server said.

use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use shared::api::ApiErrorBody;

use super::CliError;

/// A client of one `weft serve` (`--server`, `WEFT_SERVER`).
pub(crate) struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Client {
    pub(crate) fn new(server: &str, token: Option<String>) -> Client {
        Client {
            http: reqwest::Client::new(),
            base: server.trim_end_matches('/').to_owned(),
            token: token.filter(|t| !t.is_empty()),
        }
    }

    pub(crate) async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, CliError> {
        Ok(self.send(Method::GET, path, None::<&Value>).await?.1)
    }

    pub(crate) async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, CliError> {
        Ok(self.send(Method::POST, path, Some(body)).await?.1)
    }

    /// Sends `body` and decodes a 2xx answer, keeping its status (a save tells "new version"
    /// from "unchanged" by it).
    pub(crate) async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<(StatusCode, T), CliError> {
        let url = format!("{}/api{path}", self.base);
        let mut req = self.http.request(method, &url);
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await.map_err(|e| CliError::Unreachable {
            server: self.base.clone(),
            reason: root_cause(&e),
        })?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| CliError::Unreachable {
            server: self.base.clone(),
            reason: root_cause(&e),
        })?;
        if !status.is_success() {
            return Err(match serde_json::from_slice::<ApiErrorBody>(&bytes) {
                Ok(body) => CliError::Api {
                    status: status.as_u16(),
                    code: body.error.code,
                    message: body.error.message,
                    details: body.error.details,
                },
                Err(_) => CliError::Api {
                    status: status.as_u16(),
                    code: "http".into(),
                    message: String::from_utf8_lossy(&bytes).trim().to_owned(),
                    details: None,
                },
            });
        }
        let value = serde_json::from_slice(&bytes).map_err(|e| CliError::Answer {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        Ok((status, value))
    }
}

/// The innermost error's text: "connection refused" rather than reqwest's wrapper.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
