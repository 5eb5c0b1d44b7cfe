//! A small real HTTP/1.1 server on 127.0.0.1 for the example plugins'
//! tests: std sockets, a thread per connection, keep-alive, chunked
//! responses. It counts the connections it accepted, so a test can tell
//! whether a client pooled them.
//!
//! Routes:
//! - `GET /hello` → `hello from the test server`
//! - `GET /echo/<text>` → `<text>`
//! - `POST /orders` with `{"item": .., "quantity": n}` → `{"id": 7, "total_cents": n * 250}`
//! - `GET /bytes/<n>` → `n` bytes (`byte i = i % 251`), chunked, 16 KiB a chunk
//! - `GET /slow/<ms>` → `slow` after `ms` milliseconds
//! - anything else → 404

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

#[derive(Clone)]
pub struct HttpServer {
    address: SocketAddr,
    connections: Arc<AtomicUsize>,
    /// Requests read so far, and a condvar to wait for more.
    requests: Arc<(Mutex<usize>, Condvar)>,
}

impl HttpServer {
    /// Starts the server on a port chosen by the OS; it runs until the
    /// test process ends.
    pub fn start() -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the test server");
        let address = listener.local_addr().unwrap();
        let server = HttpServer { address, connections: Default::default(), requests: Default::default() };
        let serving = server.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                serving.connections.fetch_add(1, Ordering::SeqCst);
                let serving = serving.clone();
                std::thread::spawn(move || {
                    let _ = serving.serve(stream);
                });
            }
        });
        server
    }

    /// Waits (blocking the thread) until `count` requests in all have been
    /// read, or `timeout` passes; whether they were.
    pub fn wait_for_requests(&self, count: usize, timeout: Duration) -> bool {
        let (read, arrived) = &*self.requests;
        let read = read.lock().unwrap();
        let (read, _) = arrived.wait_timeout_while(read, timeout, |read| *read < count).unwrap();
        *read >= count
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// The bytes `GET /bytes/<n>` sends.
pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None); // the client closed the connection
    }
    let mut parts = line.split_whitespace();
    let (method, path) =
        (parts.next().unwrap_or_default().to_string(), parts.next().unwrap_or_default().to_string());
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Some(Request { method, path, body }))
}

fn respond(stream: &mut TcpStream, status: &str, content_type: &str, body: &[u8]) -> io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)
}

impl HttpServer {
    fn serve(&self, stream: TcpStream) -> io::Result<()> {
        stream.set_nodelay(true)?;
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut stream = stream;
        while let Some(request) = read_request(&mut reader)? {
            *self.requests.0.lock().unwrap() += 1;
            self.requests.1.notify_all();
            let path = request.path.as_str();
            match (request.method.as_str(), path) {
                ("GET", "/hello") => {
                    respond(&mut stream, "200 OK", "text/plain", b"hello from the test server")?
                }
                ("GET", _) if path.starts_with("/echo/") => {
                    respond(&mut stream, "200 OK", "text/plain", &path.as_bytes()["/echo/".len()..])?
                }
                ("POST", "/orders") => {
                    let order: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
                    let quantity = order["quantity"].as_u64().unwrap_or(0);
                    let receipt = serde_json::json!({ "id": 7, "total_cents": quantity * 250 });
                    respond(&mut stream, "200 OK", "application/json", receipt.to_string().as_bytes())?
                }
                ("GET", _) if path.starts_with("/bytes/") => {
                    let n: usize = path["/bytes/".len()..].parse().unwrap_or(0);
                    write!(stream, "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ntransfer-encoding: chunked\r\n\r\n")?;
                    for chunk in pattern(n).chunks(16 * 1024) {
                        write!(stream, "{:x}\r\n", chunk.len())?;
                        stream.write_all(chunk)?;
                        stream.write_all(b"\r\n")?;
                    }
                    stream.write_all(b"0\r\n\r\n")?;
                }
                ("GET", _) if path.starts_with("/slow/") => {
                    let millis = path["/slow/".len()..].parse().unwrap_or(0);
                    std::thread::sleep(Duration::from_millis(millis));
                    respond(&mut stream, "200 OK", "text/plain", b"slow")?
                }
                _ => respond(&mut stream, "404 Not Found", "text/plain", b"no such route")?,
            }
        }
        Ok(())
    }
}
