//! The workloads of `tau-host/benches/tokio_shim.rs`, run through the
//! tokio shim on the host's runtime. Each export returns
//! `(nanoseconds, checksum, p99 nanoseconds)`.

#[path = "../../../tau-host/benches/common/tokio_workloads.rs"]
mod workloads;

use workloads::Measured;

fn triple(measured: Measured) -> (u64, u64, u64) {
    (measured.nanos, measured.checksum, measured.p99_nanos)
}

#[derive(Default)]
pub struct TokioBench;

#[tau::plugin]
impl TokioBench {
    /// See `workloads::mpsc_throughput`.
    #[tau::export]
    pub async fn mpsc_throughput(&self, n: u64) -> (u64, u64, u64) {
        triple(workloads::mpsc_throughput(n).await)
    }

    /// See `workloads::notify_ping_pong`.
    #[tau::export]
    pub async fn notify_ping_pong(&self, n: u64) -> (u64, u64, u64) {
        triple(workloads::notify_ping_pong(n).await)
    }

    /// See `workloads::oneshot_ping_pong`.
    #[tau::export]
    pub async fn oneshot_ping_pong(&self, n: u64) -> (u64, u64, u64) {
        triple(workloads::oneshot_ping_pong(n).await)
    }

    /// See `workloads::spawn_join`.
    #[tau::export]
    pub async fn spawn_join(&self, n: u64) -> (u64, u64, u64) {
        triple(workloads::spawn_join(n).await)
    }

    /// See `workloads::sleeps`.
    #[tau::export]
    pub async fn sleeps(&self, n: u64) -> (u64, u64, u64) {
        triple(workloads::sleeps(n).await)
    }

    /// See `workloads::tcp_echo`.
    #[tau::export]
    pub async fn tcp_echo(&self, n: u64, size: u64) -> (u64, u64, u64) {
        triple(workloads::tcp_echo(n, size as usize).await)
    }

    /// See `workloads::tcp_stream`.
    #[tau::export]
    pub async fn tcp_stream(&self, total: u64) -> (u64, u64, u64) {
        triple(workloads::tcp_stream(total).await)
    }
}
