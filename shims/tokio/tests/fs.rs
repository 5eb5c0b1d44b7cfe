//! `tokio::fs` on tau's runtime: values checked against what std sees.

use std::io::SeekFrom;
use std::time::Duration;

use tokio::fs::{self, File, OpenOptions};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, ReadBuf};

/// Starts a read of up to `len` bytes and abandons it: the job's bytes
/// become read-ahead that the next operation has to account for. (Should
/// the job finish before the first poll sees it, that read is undone and
/// tried again.)
async fn start_read_ahead(file: &mut File, len: usize) {
    let mut big = vec![0; len];
    loop {
        let position = file.stream_position().await.unwrap();
        let started = std::future::poll_fn(|cx| {
            let poll = std::pin::Pin::new(&mut *file).poll_read(cx, &mut ReadBuf::new(&mut big));
            std::task::Poll::Ready(poll.is_pending())
        })
        .await;
        if started {
            return;
        }
        file.seek(SeekFrom::Start(position)).await.unwrap();
    }
}

#[tokio::test]
async fn write_then_read_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.bin");
    let data: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    fs::write(&path, &data).await.unwrap();
    assert_eq!(fs::read(&path).await.unwrap(), data);
    assert_eq!(std::fs::read(&path).unwrap(), data);

    fs::write(&path, "text, replacing").await.unwrap();
    assert_eq!(fs::read_to_string(&path).await.unwrap(), "text, replacing");
    assert_eq!(fs::metadata(&path).await.unwrap().len(), 15);
}

#[tokio::test]
async fn file_write_flush_seek_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("file.txt");
    let mut file =
        OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&path).await.unwrap();
    file.write_all(b"hello, world").await.unwrap();
    file.flush().await.unwrap();
    // The flush waited for the write: std sees the bytes.
    assert_eq!(std::fs::read(&path).unwrap(), b"hello, world");

    assert_eq!(file.seek(SeekFrom::Start(7)).await.unwrap(), 7);
    let mut rest = String::new();
    file.read_to_string(&mut rest).await.unwrap();
    assert_eq!(rest, "world");

    file.seek(SeekFrom::Start(0)).await.unwrap();
    let mut all = Vec::new();
    assert_eq!(file.read_to_end(&mut all).await.unwrap(), 12);
    assert_eq!(all, b"hello, world");
    assert_eq!(file.metadata().await.unwrap().len(), 12);
}

#[tokio::test]
async fn seek_after_read_discards_read_ahead() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("digits");
    fs::write(&path, b"0123456789").await.unwrap();
    let mut file = OpenOptions::new().read(true).write(true).open(&path).await.unwrap();

    // One job reads all ten bytes ahead; two are handed out.
    start_read_ahead(&mut file, 64).await;
    let mut two = [0; 2];
    file.read_exact(&mut two).await.unwrap();
    assert_eq!(&two, b"01");
    // Relative seeks count from the logical position, 2.
    assert_eq!(file.seek(SeekFrom::Current(3)).await.unwrap(), 5);
    let mut one = [0; 1];
    file.read_exact(&mut one).await.unwrap();
    assert_eq!(&one, b"5");
    assert_eq!(file.stream_position().await.unwrap(), 6);

    // Absolute seeks, and relative ones from the end, ignore read-ahead.
    start_read_ahead(&mut file, 64).await;
    file.read_exact(&mut one).await.unwrap();
    assert_eq!(&one, b"6");
    assert_eq!(file.seek(SeekFrom::End(-3)).await.unwrap(), 7);
    file.read_exact(&mut one).await.unwrap();
    assert_eq!(&one, b"7");
    assert_eq!(file.seek(SeekFrom::Start(6)).await.unwrap(), 6);

    // A write after a read goes where the reads had got to.
    start_read_ahead(&mut file, 64).await;
    file.write_all(b"XY").await.unwrap();
    file.flush().await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"012345XY89");
    let mut rest = Vec::new();
    file.read_to_end(&mut rest).await.unwrap();
    assert_eq!(rest, b"89");
}

#[tokio::test]
async fn small_max_buf_size_splits_writes_and_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chunks");
    let mut file = File::create(&path).await.unwrap();
    file.set_max_buf_size(3);
    assert_eq!(file.max_buf_size(), 3);
    assert_eq!(file.write(b"abcdefgh").await.unwrap(), 3);
    file.write_all(b"defgh").await.unwrap();
    file.sync_all().await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"abcdefgh");

    let mut file = File::open(&path).await.unwrap();
    file.set_max_buf_size(3);
    let mut buf = [0; 8];
    assert_eq!(file.read(&mut buf).await.unwrap(), 3);
    assert_eq!(&buf[..3], b"abc");
    let mut rest = Vec::new();
    file.read_to_end(&mut rest).await.unwrap();
    assert_eq!(rest, b"defgh");
}

#[tokio::test]
async fn open_options_append_and_create_new() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    fs::write(&path, b"one\n").await.unwrap();
    let mut file = OpenOptions::new().append(true).open(&path).await.unwrap();
    file.write_all(b"two\n").await.unwrap();
    file.flush().await.unwrap();
    drop(file);
    let mut file = OpenOptions::from({
        let mut std = std::fs::OpenOptions::new();
        std.append(true);
        std
    })
    .open(&path)
    .await
    .unwrap();
    file.write_all(b"three\n").await.unwrap();
    file.shutdown().await.unwrap();
    assert_eq!(fs::read_to_string(&path).await.unwrap(), "one\ntwo\nthree\n");

    let error = File::create_new(&path).await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::AlreadyExists);
    let mut fresh = File::create_new(dir.path().join("fresh")).await.unwrap();
    fresh.write_all(b"new").await.unwrap();
    fresh.flush().await.unwrap();
    assert_eq!(fs::read(dir.path().join("fresh")).await.unwrap(), b"new");

    use std::os::unix::fs::PermissionsExt;
    let moded = dir.path().join("moded");
    OpenOptions::new().write(true).create(true).truncate(false).mode(0o600).open(&moded).await.unwrap();
    assert_eq!(fs::metadata(&moded).await.unwrap().permissions().mode() & 0o777, 0o600);
    let error = OpenOptions::new().read(true).custom_flags(libc::O_DIRECTORY).open(&moded).await.unwrap_err();
    assert_eq!(error.raw_os_error(), Some(libc::ENOTDIR));
}

#[tokio::test]
async fn metadata_len_and_set_len() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sized");
    let mut file = File::create(&path).await.unwrap();
    file.write_all(&[7; 1234]).await.unwrap();
    file.flush().await.unwrap();
    assert_eq!(fs::metadata(&path).await.unwrap().len(), 1234);
    assert_eq!(file.metadata().await.unwrap().len(), 1234);
    file.set_len(10).await.unwrap();
    assert_eq!(fs::metadata(&path).await.unwrap().len(), 10);
    assert!(fs::metadata(&path).await.unwrap().is_file());
    assert!(fs::symlink_metadata(dir.path()).await.unwrap().is_dir());
}

#[tokio::test]
async fn read_dir_lists_exact_names() {
    let dir = tempfile::tempdir().unwrap();
    // More than one chunk (32) of entries.
    let mut expected: Vec<String> = (0..40).map(|n| format!("file-{n:02}")).collect();
    for name in &expected {
        fs::write(dir.path().join(name), name.as_bytes()).await.unwrap();
    }
    fs::create_dir(dir.path().join("sub")).await.unwrap();
    expected.push("sub".to_owned());
    expected.sort();

    let mut entries = fs::read_dir(dir.path()).await.unwrap();
    let mut names = Vec::new();
    let mut dirs = Vec::new();
    while let Some(entry) = entries.next_entry().await.unwrap() {
        assert_eq!(entry.path(), dir.path().join(entry.file_name()));
        let name = entry.file_name().into_string().unwrap();
        let file_type = entry.file_type().await.unwrap();
        if file_type.is_dir() {
            dirs.push(name.clone());
        } else {
            assert_eq!(entry.metadata().await.unwrap().len(), name.len() as u64);
        }
        use std::os::unix::fs::MetadataExt;
        assert_eq!(entry.ino(), std::fs::symlink_metadata(entry.path()).unwrap().ino());
        names.push(name);
    }
    assert!(entries.next_entry().await.unwrap().is_none());
    names.sort();
    assert_eq!(names, expected);
    assert_eq!(dirs, ["sub"]);

    let error = fs::read_dir(dir.path().join("missing")).await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
}

#[tokio::test]
async fn directory_and_link_functions() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path();
    fs::create_dir_all(base.join("a/b/c")).await.unwrap();
    fs::create_dir_all(base.join("a/b/c")).await.unwrap();
    assert_eq!(fs::create_dir(base.join("a")).await.unwrap_err().kind(), std::io::ErrorKind::AlreadyExists);
    fs::DirBuilder::new().recursive(true).mode(0o700).create(base.join("x/y")).await.unwrap();
    assert!(fs::try_exists(base.join("x/y")).await.unwrap());

    fs::write(base.join("a/file"), b"content").await.unwrap();
    assert_eq!(fs::copy(base.join("a/file"), base.join("a/copy")).await.unwrap(), 7);
    fs::rename(base.join("a/copy"), base.join("a/moved")).await.unwrap();
    assert!(!fs::try_exists(base.join("a/copy")).await.unwrap());
    assert_eq!(fs::read(base.join("a/moved")).await.unwrap(), b"content");

    fs::hard_link(base.join("a/file"), base.join("a/hard")).await.unwrap();
    fs::symlink(base.join("a/file"), base.join("a/soft")).await.unwrap();
    assert_eq!(fs::read_link(base.join("a/soft")).await.unwrap(), base.join("a/file"));
    assert!(fs::symlink_metadata(base.join("a/soft")).await.unwrap().file_type().is_symlink());
    assert_eq!(
        fs::canonicalize(base.join("a/soft")).await.unwrap(),
        std::fs::canonicalize(base.join("a/file")).unwrap()
    );

    let mut permissions = fs::metadata(base.join("a/file")).await.unwrap().permissions();
    permissions.set_readonly(true);
    fs::set_permissions(base.join("a/file"), permissions).await.unwrap();
    assert!(fs::metadata(base.join("a/hard")).await.unwrap().permissions().readonly());

    fs::remove_file(base.join("a/soft")).await.unwrap();
    fs::remove_dir(base.join("x/y")).await.unwrap();
    assert_eq!(
        fs::remove_dir(base.join("a")).await.unwrap_err().kind(),
        std::io::ErrorKind::DirectoryNotEmpty
    );
    fs::remove_dir_all(base.join("a")).await.unwrap();
    assert!(!fs::try_exists(base.join("a")).await.unwrap());
    assert_eq!(fs::read(base.join("a/file")).await.unwrap_err().kind(), std::io::ErrorKind::NotFound);
}

#[tokio::test]
async fn std_conversions_and_clone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conv");
    let mut file = File::from_std(std::fs::File::create(&path).unwrap());
    file.write_all(b"abc").await.unwrap();
    file.flush().await.unwrap();
    let mut clone = file.try_clone().await.unwrap();
    clone.write_all(b"def").await.unwrap();
    clone.flush().await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"abcdef");

    let std = file.try_into_std().unwrap();
    let mut file = File::from(std);
    file.set_modified(std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000)).await.unwrap();
    assert_eq!(
        fs::metadata(&path).await.unwrap().modified().unwrap(),
        std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000)
    );
    file.write_all(b"g").await.unwrap();
    let std = file.into_std().await;
    drop(std);
    assert_eq!(std::fs::read(&path).unwrap(), b"abcdefg");

    // into_std gives read-ahead back: the std file continues from the logical position.
    let mut file = File::open(&path).await.unwrap();
    start_read_ahead(&mut file, 64).await;
    let mut two = [0; 2];
    file.read_exact(&mut two).await.unwrap();
    assert_eq!(&two, b"ab");
    let file = file.try_into_std().unwrap_err();
    let mut std = file.into_std().await;
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut std, &mut rest).unwrap();
    assert_eq!(rest, "cdefg");
}

#[tokio::test]
async fn blocking_opens_run_off_the_runtime_thread() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string; mkfifo only reads it.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);

    // Opening a FIFO for reading blocks until a writer opens it.
    let path = fifo.clone();
    let reader = tokio::spawn(async move {
        let mut file = File::open(&path).await.unwrap();
        let mut text = String::new();
        file.read_to_string(&mut text).await.unwrap();
        text
    });
    // Timers still fire meanwhile: the open is on the blocking pool.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!reader.is_finished());
    fs::write(&fifo, b"through the fifo").await.unwrap();
    assert_eq!(reader.await.unwrap(), "through the fifo");
}
