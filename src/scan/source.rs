//! A log's bytes as `scan` reads them: as they lie on disk or arrive on
//! standard input, or gzip-decompressed on the fly, since rotated logs
//! (`access.log.2.gz`) usually are. Other compressions, and UTF-16 text, are
//! recognised by their first bytes and refused with the command that opens
//! them, instead of being scanned as binary noise that holds no JWT.
//!
//! Compressed data that ends early (a file still being written or copied)
//! or is corrupt ends the input there instead of failing the scan: what came
//! before it is still summarised, and [`Source::ended_early`] says why the
//! rest is missing.

use std::io::{self, BufRead, Cursor, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::bufread::MultiGzDecoder;

/// Bytes looked at to recognise a format.
const HEAD_BYTES: usize = 16;
/// Bytes buffered, read from a plain log or decompressed from a compressed
/// one: also the longest line held back whole. Allocated on a log's first
/// read and freed at its end, so that many logs cost no more than one.
const BUFFER: usize = 256 * 1024;

/// How the input was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    #[default]
    None,
    /// One gzip member or several concatenated (`cat a.gz b.gz`).
    Gzip,
}

impl Compression {
    pub fn name(self) -> Option<&'static str> {
        match self {
            Compression::None => None,
            Compression::Gzip => Some("gzip"),
        }
    }
}

/// Input recognised but not read: `format` and the command that turns it
/// into plain text (to pipe into `jwtai scan -`), `FILE` standing for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{format}: convert it first, e.g. `{command} | jwtai scan -`")]
pub struct Unsupported {
    pub format: &'static str,
    pub command: &'static str,
}

/// Formats refused, by their leading bytes (UTF-16, with or without a
/// byte-order mark: [`utf16`]).
const REFUSED: &[(&[u8], Unsupported)] = &[
    (
        b"\x28\xb5\x2f\xfd",
        Unsupported {
            format: "zstd-compressed",
            command: "zstdcat FILE",
        },
    ),
    (
        b"\xfd7zXZ\x00",
        Unsupported {
            format: "xz-compressed",
            command: "xzcat FILE",
        },
    ),
    (
        b"\x04\x22\x4d\x18",
        Unsupported {
            format: "lz4-compressed",
            command: "lz4cat FILE",
        },
    ),
    (
        b"PK\x03\x04",
        Unsupported {
            format: "a zip archive",
            command: "unzip -p FILE",
        },
    ),
];

const UTF16: Unsupported = Unsupported {
    format: "UTF-16 text",
    command: "iconv -f UTF-16 -t UTF-8 FILE",
};

/// UTF-16 without a byte-order mark: ASCII text with a NUL after (little
/// endian) or before (big endian) every character; `iconv` must be told
/// which: `true` for big endian.
fn utf16_without_bom(head: &[u8]) -> Option<bool> {
    let pairs: Vec<&[u8]> = head.chunks_exact(2).take(32).collect();
    let text = |b: u8| b == b'\t' || b == b'\n' || b == b'\r' || (0x20..0x7f).contains(&b);
    if pairs.len() < 4 {
        None
    } else if pairs.iter().all(|p| text(p[0]) && p[1] == 0) {
        Some(false)
    } else if pairs.iter().all(|p| p[0] == 0 && text(p[1])) {
        Some(true)
    } else {
        None
    }
}

/// UTF-16 text, plain or found once a gzip log was opened (Windows hosts
/// write such logs): refused with the command that reads it, byte order
/// included.
fn utf16(head: &[u8], gzip: bool) -> Option<Unsupported> {
    let bom = head.starts_with(b"\xff\xfe") || head.starts_with(b"\xfe\xff");
    let big = if bom {
        None
    } else {
        Some(utf16_without_bom(head)?)
    };
    let (format, command) = match (gzip, big) {
        (false, None) => (UTF16.format, UTF16.command),
        (false, Some(false)) => (
            "UTF-16 text (no byte-order mark)",
            "iconv -f UTF-16LE -t UTF-8 FILE",
        ),
        (false, Some(true)) => (
            "UTF-16 text (no byte-order mark)",
            "iconv -f UTF-16BE -t UTF-8 FILE",
        ),
        (true, None) => (
            "gzip-compressed UTF-16 text",
            "gzip -dc FILE | iconv -f UTF-16 -t UTF-8",
        ),
        (true, Some(false)) => (
            "gzip-compressed UTF-16 text",
            "gzip -dc FILE | iconv -f UTF-16LE -t UTF-8",
        ),
        (true, Some(true)) => (
            "gzip-compressed UTF-16 text",
            "gzip -dc FILE | iconv -f UTF-16BE -t UTF-8",
        ),
    };
    Some(Unsupported { format, command })
}

const BZIP2: Unsupported = Unsupported {
    format: "bzip2-compressed",
    command: "bzcat FILE",
};

/// What the first bytes of the input say it is.
fn recognise(head: &[u8]) -> Result<Compression, Unsupported> {
    if head.starts_with(b"\x1f\x8b") {
        return Ok(Compression::Gzip);
    }
    if let Some((_, refused)) = REFUSED.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Err(*refused);
    }
    if let Some(refused) = utf16(head, false) {
        return Err(refused);
    }
    // `BZh`, a block size digit, then the magic of a block or of the end of
    // the stream: text may well start with "BZh", hardly with all of it.
    if let [b'B', b'Z', b'h', b'1'..=b'9', rest @ ..] = head {
        if rest.starts_with(b"1AY&SY") || rest.starts_with(b"\x17\x72\x45\x38\x50\x90") {
            return Err(BZIP2);
        }
    }
    Ok(Compression::None)
}

/// The first bytes, read off the input, then the rest of it, counted.
type Raw<R> = Counted<io::Chain<Cursor<Vec<u8>>, R>>;
/// [`Raw`] read a buffer at a time.
type Headed<R> = io::BufReader<Raw<R>>;

/// The input, ready for [`super::scan_sources`] (which borrows it, so that
/// [`Source::ended_early`] can be asked afterwards).
pub struct Source<R> {
    inner: Inner<R>,
    compression: Compression,
    /// Bytes taken from the input (compressed ones, for a compressed input).
    read: Arc<AtomicU64>,
    ended_early: Option<String>,
    /// The decompressed text's first bytes were looked at (for UTF-16).
    looked: bool,
}

enum Inner<R> {
    /// Recognised, nothing buffered yet: buffers and decoder are made on
    /// the first read, so that logs opened up front, waiting their turn,
    /// hold no memory.
    Opened(Raw<R>),
    Plain(Headed<R>),
    Gzip(Box<Lines<MultiGzDecoder<Headed<R>>>>),
    /// Read to its end (or ended early): buffers and decoder dropped, so a
    /// log read before others costs nothing while they are read.
    Done,
}

/// Decompressed data handed out a whole line at a time, so that a stream
/// cut mid-line drops the cut line instead of passing on a truncated token
/// (which would be diagnosed as a broken one).
struct Lines<D> {
    decoder: D,
    buf: Vec<u8>,
    /// Handed out: `buf[start..ready]`, then held back: `buf[ready..filled]`.
    start: usize,
    ready: usize,
    filled: usize,
}

impl<D: Read> Lines<D> {
    fn new(decoder: D) -> Self {
        Lines {
            decoder,
            buf: vec![0; BUFFER],
            start: 0,
            ready: 0,
            filled: 0,
        }
    }

    /// The next complete lines (or, at the end or when the buffer holds one
    /// line too long for it, whatever there is). On a decoding error: the
    /// error, and the bytes of the incomplete line held back and dropped.
    fn fill_buf(&mut self) -> Result<&[u8], (io::Error, usize)> {
        if self.start == self.ready {
            self.buf.copy_within(self.ready..self.filled, 0);
            self.filled -= self.ready;
            (self.start, self.ready) = (0, 0);
            while self.ready == 0 {
                if self.filled == self.buf.len() {
                    self.ready = self.filled;
                    break;
                }
                match self.decoder.read(&mut self.buf[self.filled..]) {
                    Ok(0) if self.filled == 0 => break, // the end, nothing held back
                    Ok(0) => self.ready = self.filled,
                    Ok(n) => {
                        let new = self.filled..self.filled + n;
                        self.filled += n;
                        if let Some(at) = memchr::memrchr(b'\n', &self.buf[new.clone()]) {
                            self.ready = new.start + at + 1;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        let dropped = std::mem::take(&mut self.filled);
                        return Err((e, dropped));
                    }
                }
            }
        }
        Ok(&self.buf[self.start..self.ready])
    }

    fn consume(&mut self, amt: usize) {
        self.start = (self.start + amt).min(self.ready);
    }
}

impl<R: Read> Source<R> {
    /// Recognises the input by its first bytes. Fails on an I/O error
    /// reading them, or on a format refused ([`Unsupported`], as the
    /// error's inner value).
    pub fn open(mut input: R) -> io::Result<Source<R>> {
        let head = read_head(&mut input)?;
        let compression = recognise(&head).map_err(io::Error::other)?;
        let read = Arc::new(AtomicU64::new(0));
        let inner = Inner::Opened(Counted {
            inner: Cursor::new(head).chain(input),
            count: Arc::clone(&read),
        });
        Ok(Source {
            inner,
            compression,
            read,
            ended_early: None,
            looked: false,
        })
    }

    /// Buffers (and, for gzip, the decoder) for reading, on the first read.
    fn start(&mut self) {
        if let Inner::Opened(_) = self.inner {
            let Inner::Opened(raw) = std::mem::replace(&mut self.inner, Inner::Done) else {
                return;
            };
            let headed = io::BufReader::with_capacity(BUFFER, raw);
            self.inner = match self.compression {
                Compression::None => Inner::Plain(headed),
                Compression::Gzip => Inner::Gzip(Box::new(Lines::new(MultiGzDecoder::new(headed)))),
            };
        }
    }

    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Bytes taken from the input so far, compressed ones for a compressed
    /// input (whose decompressed count outgrows the file's size): a
    /// progress bar's position against the file's size.
    pub fn bytes_read(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.read)
    }

    /// Why the input stopped before its end, if it did: compressed data cut
    /// short or corrupt.
    pub fn ended_early(&self) -> Option<&str> {
        self.ended_early.as_deref()
    }
}

/// Up to [`HEAD_BYTES`] from the start of the input (fewer only at its end),
/// however few bytes each read delivers (a pipe may give one at a time).
fn read_head(input: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut head = vec![0; HEAD_BYTES];
    let mut len = 0;
    while len < HEAD_BYTES {
        match input.read(&mut head[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(len);
    Ok(head)
}

/// What a decoding error means for the reader of the summary.
fn describe(e: &io::Error, compression: Compression, at: u64, dropped: usize) -> String {
    let format = compression.name().unwrap_or("compressed");
    let mut why = if e.kind() == io::ErrorKind::UnexpectedEof {
        format!(
            "{format} data cut short after {at} compressed bytes (file still being written or copied?)"
        )
    } else {
        format!("{format} data corrupt near compressed byte {at}: {e}")
    };
    if dropped > 0 {
        why.push_str(&format!(
            "; the incomplete line before it ({dropped} bytes) was dropped"
        ));
    }
    why
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let buf = self.fill_buf()?;
        let n = buf.len().min(out.len());
        out[..n].copy_from_slice(&buf[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for Source<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.start();
        let at_end = match &mut self.inner {
            Inner::Opened(_) | Inner::Done => true,
            Inner::Plain(r) => r.fill_buf()?.is_empty(),
            Inner::Gzip(lines) => match lines.fill_buf() {
                Ok(buf) => {
                    let refused = match std::mem::replace(&mut self.looked, true) {
                        false => utf16(buf, true),
                        true => None,
                    };
                    if let Some(refused) = refused {
                        self.inner = Inner::Done;
                        return Err(io::Error::other(refused));
                    }
                    buf.is_empty()
                }
                Err((e, dropped)) => {
                    let at = self.read.load(Ordering::Relaxed);
                    self.ended_early = Some(describe(&e, self.compression, at, dropped));
                    true
                }
            },
        };
        if at_end {
            self.inner = Inner::Done;
            return Ok(&[]);
        }
        // Filled just now: handed out again without reading.
        match &mut self.inner {
            Inner::Plain(r) => r.fill_buf(),
            Inner::Gzip(lines) => lines.fill_buf().map_err(|(e, _)| e),
            Inner::Opened(_) | Inner::Done => Ok(&[]),
        }
    }

    fn consume(&mut self, amt: usize) {
        match &mut self.inner {
            Inner::Plain(r) => r.consume(amt),
            Inner::Gzip(lines) => lines.consume(amt),
            Inner::Opened(_) | Inner::Done => {}
        }
    }
}

/// Counts the bytes taken from `inner`, for [`Source::bytes_read`].
struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn read_all(source: &mut Source<impl BufRead>) -> Vec<u8> {
        let mut out = Vec::new();
        source.read_to_end(&mut out).unwrap();
        out
    }

    /// A reader that hands out one byte per read, as a slow pipe may.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(out.len()).min(1);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn plain_text_passes_through_unchanged_however_short() {
        for text in [&b""[..], b"e", b"eyJ", b"hello\nworld\n", &[b'x'; 100_000]] {
            let mut s = Source::open(text).unwrap();
            assert_eq!(s.compression(), Compression::None);
            assert_eq!(read_all(&mut s), text);
            assert!(s.ended_early().is_none());
            assert_eq!(s.bytes_read().load(Ordering::Relaxed), text.len() as u64);
        }
    }

    #[test]
    fn gzip_is_decompressed_even_when_its_magic_arrives_a_byte_at_a_time() {
        let text = b"Authorization: Bearer eyJ.a.b\nline two\n".repeat(1000);
        let gz = gzip(&text);
        let mut s = Source::open(io::BufReader::with_capacity(1, Trickle(&gz))).unwrap();
        assert_eq!(s.compression(), Compression::Gzip);
        assert_eq!(read_all(&mut s), text);
        assert!(s.ended_early().is_none());
        let consumed = s.bytes_read().load(Ordering::Relaxed);
        assert_eq!(consumed, gz.len() as u64);
    }

    /// Many logs are opened up front; each holds buffers only while it is
    /// read, so a run over hundreds costs the memory of one.
    #[test]
    fn buffers_exist_only_from_the_first_read_to_the_end() {
        let text = b"one\ntwo\n".repeat(100);
        for input in [text.clone(), gzip(&text)] {
            let mut s = Source::open(&input[..]).unwrap();
            assert!(matches!(s.inner, Inner::Opened(_)));
            assert!(!s.fill_buf().unwrap().is_empty());
            assert!(matches!(s.inner, Inner::Plain(_) | Inner::Gzip(_)));
            assert_eq!(read_all(&mut s), text);
            assert!(matches!(s.inner, Inner::Done));
        }
    }

    #[test]
    fn concatenated_gzip_members_are_all_read() {
        let mut gz = gzip(b"first\n");
        gz.extend(gzip(b"second\n"));
        let mut s = Source::open(&gz[..]).unwrap();
        assert_eq!(read_all(&mut s), b"first\nsecond\n");
    }

    #[test]
    fn gzip_cut_short_ends_the_input_with_what_came_before_and_says_why() {
        let text: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let gz = gzip(&text);
        let cut = &gz[..gz.len() / 2];
        let mut s = Source::open(cut).unwrap();
        let got = read_all(&mut s);
        assert!(!got.is_empty() && got.len() < text.len());
        assert_eq!(got, text[..got.len()]);
        let why = s.ended_early().expect("says it ended early");
        assert!(why.contains("gzip data cut short"), "{why}");
    }

    #[test]
    fn a_line_cut_by_the_end_of_gzip_data_is_dropped_not_passed_on() {
        let gz = gzip(b"line one\nline two\nline three is long enough to be cut\n");
        // Cut inside the deflate data: what decodes is a prefix ending mid-line.
        for cut in 12..gz.len() - 8 {
            let mut s = Source::open(&gz[..cut]).unwrap();
            let got = read_all(&mut s);
            assert!(got.is_empty() || got.ends_with(b"\n"), "cut {cut}: {got:?}");
            assert!(s.ended_early().is_some(), "cut {cut}");
        }
    }

    #[test]
    fn a_line_longer_than_the_buffer_is_handed_out_whole() {
        let mut text = vec![b'a'; BUFFER * 2 + 17];
        text.extend_from_slice(b"\nshort\nno newline at the end");
        let gz = gzip(&text);
        let mut s = Source::open(&gz[..]).unwrap();
        assert_eq!(read_all(&mut s), text);
        assert!(s.ended_early().is_none());
    }

    #[test]
    fn corrupt_gzip_ends_the_input_and_says_so() {
        let mut gz = gzip(&b"some log line\n".repeat(10_000));
        let mid = gz.len() / 2;
        for b in &mut gz[mid..mid + 64] {
            *b ^= 0x5a;
        }
        let mut s = Source::open(&gz[..]).unwrap();
        let _ = read_all(&mut s);
        let why = s.ended_early().expect("says it ended early");
        assert!(why.contains("gzip data"), "{why}");
    }

    #[test]
    fn other_compressions_and_utf16_are_refused_with_the_command_that_reads_them() {
        for (head, format, command) in [
            (
                &b"\x28\xb5\x2f\xfd\x00\x58"[..],
                "zstd-compressed",
                "zstdcat FILE",
            ),
            (b"\xfd7zXZ\x00\x00\x04", "xz-compressed", "xzcat FILE"),
            (b"BZh91AY&SY\x00\x01", "bzip2-compressed", "bzcat FILE"),
            (b"PK\x03\x04\x14\x00", "a zip archive", "unzip -p FILE"),
            (
                b"\xff\xfea\x00b\x00",
                "UTF-16 text",
                "iconv -f UTF-16 -t UTF-8 FILE",
            ),
            (
                b"G\x00E\x00T\x00 \x00/\x00",
                "UTF-16 text (no byte-order mark)",
                "iconv -f UTF-16LE -t UTF-8 FILE",
            ),
            (
                b"\x00G\x00E\x00T\x00 \x00/",
                "UTF-16 text (no byte-order mark)",
                "iconv -f UTF-16BE -t UTF-8 FILE",
            ),
        ] {
            let e = Source::open(head).err().expect("refused");
            let refused = e
                .get_ref()
                .and_then(|i| i.downcast_ref::<Unsupported>())
                .expect("an Unsupported inside");
            assert_eq!((refused.format, refused.command), (format, command));
        }
    }

    #[test]
    fn utf16_inside_gzip_is_refused_once_opened() {
        // A Windows host's rotated log: silently 0 tokens before.
        let text: Vec<u8> = "GET / Authorization: Bearer eyJ\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        for (data, from) in [
            (text.clone(), "-f UTF-16LE "),
            ([&b"\xff\xfe"[..], &text].concat(), "-f UTF-16 "),
        ] {
            let gz = gzip(&data);
            let mut s = Source::open(&gz[..]).unwrap();
            let e = s.fill_buf().expect_err("refused");
            let refused = e
                .get_ref()
                .and_then(|i| i.downcast_ref::<Unsupported>())
                .expect("an Unsupported inside");
            assert_eq!(refused.format, "gzip-compressed UTF-16 text");
            assert!(refused.command.contains(from), "{}", refused.command);
        }
        // Plain text in gzip reads on.
        let gz = gzip(b"GET / 200\n");
        let mut s = Source::open(&gz[..]).unwrap();
        assert_eq!(read_all(&mut s), b"GET / 200\n");
    }

    #[test]
    fn text_that_merely_starts_like_bzip2_is_text() {
        let mut s = Source::open(&b"BZh9 is not a header\n"[..]).unwrap();
        assert_eq!(s.compression(), Compression::None);
        assert_eq!(read_all(&mut s), b"BZh9 is not a header\n");
    }
}
