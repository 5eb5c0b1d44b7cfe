//! tokio's `TcpStream` reads on tau's reactor where readiness is subtle: a
//! read that fills less than its buffer forgets the readiness (the receive
//! buffer is empty, as tokio assumes too), and that must never lose an end
//! of stream or data that arrives later.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

/// A connected pair whose server end is registered without tokio's
/// "accepted, so take it as ready" assumption: its readiness is only what
/// the reactor reports.
async fn pair() -> (TcpStream, TcpStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let (server, _) = listener.accept().unwrap();
    server.set_nonblocking(true).unwrap();
    (client, TcpStream::from_std(server).unwrap())
}

#[tokio::test]
async fn an_end_of_stream_that_came_with_the_last_data_is_read_after_a_short_read() {
    let (mut client, mut server) = pair().await;
    client.write_all(&[7; 100]).await.unwrap();
    client.shutdown().await.unwrap();
    // The data and the FIN are both queued: the reactor reports them in one
    // event, then the short read below forgets the readiness.
    server.readable().await.unwrap();
    let mut buf = [0; 4096];
    assert_eq!(server.read(&mut buf).await.unwrap(), 100);
    let end = timeout(Duration::from_secs(5), server.read(&mut buf)).await;
    assert_eq!(end.expect("the end of stream was lost after a short read").unwrap(), 0);
}

#[tokio::test]
async fn data_sent_after_a_short_read_wakes_the_reader() {
    let (mut client, mut server) = pair().await;
    let mut buf = [0; 4096];
    for round in 1..=50u8 {
        client.write_all(&[round; 10]).await.unwrap();
        let read = timeout(Duration::from_secs(5), server.read(&mut buf)).await;
        assert_eq!(read.expect("a later message was never reported").unwrap(), 10, "round {round}");
        assert_eq!(buf[..10], [round; 10]);
    }
    drop(client);
    assert_eq!(timeout(Duration::from_secs(5), server.read(&mut buf)).await.unwrap().unwrap(), 0);
}

#[tokio::test]
async fn bulk_copy_through_an_echo_ends_with_every_byte_and_the_end_of_stream() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let echo = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let (mut read, mut write) = socket.split();
        tokio::io::copy(&mut read, &mut write).await.unwrap()
    });
    let (mut read, mut write) = TcpStream::connect(address).await.unwrap().into_split();
    const TOTAL: usize = 16 << 20;
    let writer = tokio::spawn(async move {
        let chunk = vec![3u8; 64 * 1024];
        for _ in 0..TOTAL / chunk.len() {
            write.write_all(&chunk).await.unwrap();
        }
        write.shutdown().await.unwrap();
    });
    let mut received = Vec::new();
    timeout(Duration::from_secs(60), read.read_to_end(&mut received))
        .await
        .expect("the echo's end of stream never came")
        .unwrap();
    writer.await.unwrap();
    assert_eq!(echo.await.unwrap(), TOTAL as u64);
    assert_eq!(received.len(), TOTAL);
    assert!(received.iter().all(|&byte| byte == 3));
}

/// tokio's documented `try_read` loop: `readable().await`, then `try_read`,
/// and on `WouldBlock` wait again. A wait must sleep until the peer sends
/// more, and once the peer shut down, `ready()` must say `is_read_closed()`
/// (tokio's `try_read_buf` test loops on it with `yield_now` until it
/// does). Each loop counts its turns: a spin shows as thousands of them.
#[tokio::test]
async fn the_readable_then_try_read_loop_sleeps_and_sees_the_peer_close() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    let (ack, mut acked) = tokio::sync::mpsc::unbounded_channel();
    let writer = async move {
        for round in 1..=20u8 {
            client.write_all(&[round; 10]).await.unwrap();
            acked.recv().await.unwrap();
        }
        client.shutdown().await.unwrap();
        client
    };
    let reader = async {
        let (mut received, mut would_blocks, mut buf) = (Vec::new(), 0, [0; 64]);
        while received.len() < 200 {
            server.readable().await.unwrap();
            match server.try_read(&mut buf) {
                Ok(read) => {
                    received.extend_from_slice(&buf[..read]);
                    ack.send(()).unwrap();
                }
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                    would_blocks += 1;
                    assert!(would_blocks < 100, "readable() keeps answering after try_read's WouldBlock");
                }
                Err(error) => panic!("try_read: {error}"),
            }
        }
        received
    };
    let (_client, received) = tokio::join!(writer, reader);
    let expected: Vec<u8> = (1..=20u8).flat_map(|round| [round; 10]).collect();
    assert_eq!(received, expected);
    let mut not_closed = 0;
    loop {
        let ready = server.ready(Interest::READABLE).await.unwrap();
        if ready.is_read_closed() {
            break;
        }
        not_closed += 1;
        assert!(not_closed < 100, "ready() never says is_read_closed() after the peer shut down: {ready:?}");
        tokio::task::yield_now().await;
    }
    assert_eq!(server.try_read(&mut [0; 8]).unwrap(), 0, "the end of stream");
}
