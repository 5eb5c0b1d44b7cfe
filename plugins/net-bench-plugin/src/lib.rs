//! The network benchmark's plugin side: `benches/common/net_workloads.rs`
//! compiled with tau's tokio, behind exports.

#[path = "../../../tau-host/benches/common/net_workloads.rs"]
mod workloads;

#[path = "../../../tau-host/benches/common/tool.rs"]
mod tool;

#[derive(Default)]
pub struct NetBench {
    client: std::sync::OnceLock<reqwest::Client>,
}

#[tau::plugin]
impl NetBench {
    /// `n` GETs of `url`, `concurrency` at a time: (nanoseconds, body bytes).
    #[tau::export]
    pub async fn reqwest_gets(&self, url: String, n: u64, concurrency: u64) -> (u64, u64) {
        let client = self.client.get_or_init(reqwest::Client::new);
        workloads::reqwest_gets(client, &url, n, concurrency).await
    }

    /// One tool call: JSON in, JSON out.
    #[tau::export]
    pub async fn tool_call(&self, request: String) -> String {
        tool::tool(&request)
    }

    /// The same tool as a synchronous export.
    #[tau::export]
    pub fn tool_call_sync(&self, request: String) -> String {
        tool::tool(&request)
    }
}
