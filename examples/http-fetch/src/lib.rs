//! A plugin that calls HTTP APIs with [reqwest], unchanged: reqwest runs
//! on tokio, and tau's tokio (patched into every plugin build) runs it on
//! the host's one runtime. Every request's sockets and timers belong to
//! this plugin: `Host::plugin_metrics` counts them and unload closes them.
//!
//! ```sh
//! tau call examples/http-fetch get http://127.0.0.1:8080/
//! ```
//!
//! One `reqwest::Client` is shared by every call (its connection pool
//! too), made on first use.

use std::sync::OnceLock;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use tau::stream::BoxStream;

#[derive(Default)]
pub struct HttpFetch {
    client: OnceLock<reqwest::Client>,
}

/// What [`HttpFetch::post_json`] sends.
#[derive(Serialize)]
struct Order<'a> {
    item: &'a str,
    quantity: u32,
}

/// What [`HttpFetch::post_json`] expects back.
#[derive(Deserialize)]
struct Receipt {
    id: u64,
    total_cents: u64,
}

/// An error as the host sees it: reqwest's message with its sources.
fn describe(error: reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    if error.is_timeout() {
        text.push_str(" (timed out)");
    }
    text
}

impl HttpFetch {
    fn client(&self) -> &reqwest::Client {
        self.client.get_or_init(reqwest::Client::new)
    }

    async fn text(request: reqwest::RequestBuilder) -> Result<String, String> {
        let response = request.send().await.map_err(describe)?.error_for_status().map_err(describe)?;
        response.text().await.map_err(describe)
    }
}

#[tau::plugin]
impl HttpFetch {
    /// `GET url`: the body as text, or the error (an HTTP error status is
    /// an error too).
    #[tau::export]
    pub async fn get(&self, url: String) -> Result<String, String> {
        Self::text(self.client().get(url)).await
    }

    /// Posts `{"item", "quantity"}` as JSON and reads `{"id", "total_cents"}`
    /// back with serde: `(id, total_cents)`.
    #[tau::export]
    pub async fn post_json(&self, url: String, item: String, quantity: u32) -> Result<(u64, u64), String> {
        let order = Order { item: &item, quantity };
        let response = self.client().post(url).json(&order).send().await.map_err(describe)?;
        let receipt: Receipt =
            response.error_for_status().map_err(describe)?.json().await.map_err(describe)?;
        Ok((receipt.id, receipt.total_cents))
    }

    /// Streams the body of `GET url` as it arrives, chunk by chunk; an error
    /// (connecting, a status, a broken body) is the last item. Nothing is
    /// sent until the stream is first polled.
    #[tau::export]
    pub fn download(&self, url: String) -> BoxStream<'static, Result<Vec<u8>, String>> {
        let request = self.client().get(url);
        let body = async move {
            let response = request.send().await.and_then(reqwest::Response::error_for_status)?;
            Ok::<_, reqwest::Error>(response.bytes_stream())
        };
        futures::stream::once(body)
            .try_flatten()
            .map(|chunk| chunk.map(|bytes| bytes.to_vec()).map_err(describe))
            .boxed()
    }

    /// `GET`s every url, at most `concurrency` at a time, over the shared
    /// client: each body or error, in the order of `urls`.
    #[tau::export]
    pub async fn get_many(&self, urls: Vec<String>, concurrency: u64) -> Vec<Result<String, String>> {
        let client = self.client();
        futures::stream::iter(urls)
            .map(|url| Self::text(client.get(url)))
            .buffered(concurrency.max(1) as usize)
            .collect()
            .await
    }

    /// `GET url`, giving up after `millis` ms (reqwest's own timeout, on
    /// tau's timer).
    #[tau::export]
    pub async fn get_with_timeout(&self, url: String, millis: u64) -> Result<String, String> {
        Self::text(self.client().get(url).timeout(Duration::from_millis(millis))).await
    }

    /// `GET url` over HTTP/2 without TLS (h2c, "prior knowledge"):
    /// `(the response's HTTP version, its body)`.
    #[tau::export]
    pub async fn get_h2(&self, url: String) -> Result<(String, String), String> {
        let client = reqwest::Client::builder().http2_prior_knowledge().build().map_err(describe)?;
        let response =
            client.get(url).send().await.map_err(describe)?.error_for_status().map_err(describe)?;
        let version = format!("{:?}", response.version());
        Ok((version, response.text().await.map_err(describe)?))
    }

    /// `GET url` over HTTPS trusting only the PEM certificate `ca_pem`,
    /// through `tls` = `"rustls"` or `"native-tls"` (the system's OpenSSL).
    #[tau::export]
    pub async fn get_tls(&self, url: String, ca_pem: String, tls: String) -> Result<String, String> {
        let certificate = reqwest::Certificate::from_pem(ca_pem.as_bytes()).map_err(describe)?;
        let builder =
            reqwest::Client::builder().tls_built_in_root_certs(false).add_root_certificate(certificate);
        let builder = match tls.as_str() {
            "rustls" => builder.use_rustls_tls(),
            "native-tls" => builder.use_native_tls(),
            other => return Err(format!("unknown TLS backend `{other}`: use `rustls` or `native-tls`")),
        };
        Self::text(builder.build().map_err(describe)?.get(url)).await
    }
}
