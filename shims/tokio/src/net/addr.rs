use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::vec;

use tau::task::JoinHandle;

/// Things that resolve to socket addresses, as `tokio::net::ToSocketAddrs`:
/// addresses, `(host, port)` pairs and `"host:port"` strings. A string that
/// is not an address literal is resolved with the system resolver on the
/// blocking pool, never on the runtime's thread.
pub trait ToSocketAddrs: sealed::ToSocketAddrsPriv {}

/// Resolves `host` to its socket addresses, as `tokio::net::lookup_host`.
///
/// ```
/// #[tokio::main]
/// async fn main() {
///     let addresses: Vec<_> = tokio::net::lookup_host("127.0.0.1:80").await.unwrap().collect();
///     assert_eq!(addresses, ["127.0.0.1:80".parse().unwrap()]);
///     let localhost: Vec<_> = tokio::net::lookup_host(("localhost", 8080)).await.unwrap().collect();
///     assert!(localhost.iter().all(|address| address.port() == 8080 && address.ip().is_loopback()));
/// }
/// # main();
/// ```
///
/// # Errors
/// What the system resolver reports for an unknown name or a malformed string.
pub async fn lookup_host<T: ToSocketAddrs>(host: T) -> io::Result<impl Iterator<Item = SocketAddr>> {
    host.to_socket_addrs(sealed::Internal).await
}

pub(crate) async fn resolve<T: ToSocketAddrs>(addresses: T) -> io::Result<vec::IntoIter<SocketAddr>> {
    addresses.to_socket_addrs(sealed::Internal).await
}

/// Runs `f` for each resolved address until one succeeds; the last error
/// otherwise, as tokio's `connect` and `bind`.
pub(crate) async fn first_success<A, T, F, Fut>(addresses: A, mut f: F) -> io::Result<T>
where
    A: ToSocketAddrs,
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let mut last = None;
    for address in resolve(addresses).await? {
        match f(address).await {
            Ok(value) => return Ok(value),
            Err(error) => last = Some(error),
        }
    }
    Err(last
        .unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "could not resolve to any address")))
}

pub(crate) mod sealed {
    use super::*;

    #[derive(Clone, Copy, Debug)]
    pub struct Internal;

    /// The resolution, ready or on the blocking pool.
    pub enum MaybeReady {
        Ready(Option<io::Result<Vec<SocketAddr>>>),
        Blocking(JoinHandle<io::Result<Vec<SocketAddr>>>),
    }

    impl Future for MaybeReady {
        type Output = io::Result<vec::IntoIter<SocketAddr>>;

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let result = match &mut *self {
                MaybeReady::Ready(result) => result.take().expect("polled after completion"),
                MaybeReady::Blocking(job) => match Pin::new(job).poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(joined) => joined.map_err(io::Error::from).and_then(|result| result),
                },
            };
            Poll::Ready(result.map(Vec::into_iter))
        }
    }

    pub trait ToSocketAddrsPriv {
        fn to_socket_addrs(&self, internal: Internal) -> MaybeReady;
    }

    pub(super) fn ready(addresses: Vec<SocketAddr>) -> MaybeReady {
        MaybeReady::Ready(Some(Ok(addresses)))
    }

    pub(super) fn blocking(host: String, port: Option<u16>) -> MaybeReady {
        MaybeReady::Blocking(tau::task::spawn_blocking(move || {
            let addresses = match port {
                Some(port) => std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port)),
                None => std::net::ToSocketAddrs::to_socket_addrs(&host),
            };
            addresses.map(Iterator::collect)
        }))
    }
}

use sealed::{blocking, ready, Internal, MaybeReady, ToSocketAddrsPriv};

macro_rules! literal {
    ($($ty:ty => |$value:ident| $address:expr;)*) => {$(
        impl ToSocketAddrs for $ty {}
        impl ToSocketAddrsPriv for $ty {
            fn to_socket_addrs(&self, _: Internal) -> MaybeReady {
                let $value = *self;
                ready(vec![$address])
            }
        }
    )*};
}

literal! {
    SocketAddr => |address| address;
    SocketAddrV4 => |address| SocketAddr::V4(address);
    SocketAddrV6 => |address| SocketAddr::V6(address);
    (IpAddr, u16) => |pair| SocketAddr::new(pair.0, pair.1);
    (Ipv4Addr, u16) => |pair| SocketAddr::new(IpAddr::V4(pair.0), pair.1);
    (Ipv6Addr, u16) => |pair| SocketAddr::new(IpAddr::V6(pair.0), pair.1);
}

impl ToSocketAddrs for &[SocketAddr] {}
impl ToSocketAddrsPriv for &[SocketAddr] {
    fn to_socket_addrs(&self, _: Internal) -> MaybeReady {
        ready(self.to_vec())
    }
}

impl ToSocketAddrs for str {}
impl ToSocketAddrsPriv for str {
    fn to_socket_addrs(&self, _: Internal) -> MaybeReady {
        match self.parse::<SocketAddr>() {
            Ok(address) => ready(vec![address]),
            Err(_) => blocking(self.to_owned(), None),
        }
    }
}

impl ToSocketAddrs for String {}
impl ToSocketAddrsPriv for String {
    fn to_socket_addrs(&self, internal: Internal) -> MaybeReady {
        self.as_str().to_socket_addrs(internal)
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl ToSocketAddrsPriv for (&str, u16) {
    fn to_socket_addrs(&self, _: Internal) -> MaybeReady {
        let (host, port) = *self;
        match host.parse::<IpAddr>() {
            Ok(ip) => ready(vec![SocketAddr::new(ip, port)]),
            Err(_) => blocking(host.to_owned(), Some(port)),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl ToSocketAddrsPriv for (String, u16) {
    fn to_socket_addrs(&self, internal: Internal) -> MaybeReady {
        (self.0.as_str(), self.1).to_socket_addrs(internal)
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrsPriv + ?Sized> ToSocketAddrsPriv for &T {
    fn to_socket_addrs(&self, internal: Internal) -> MaybeReady {
        (**self).to_socket_addrs(internal)
    }
}
