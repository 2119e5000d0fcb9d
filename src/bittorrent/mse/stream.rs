//! The connection after the MSE handshake: a `Read + Write` that decrypts what it reads
//! and encrypts what it writes with RC4, or passes bytes through when plaintext was
//! chosen. Bytes the handshake read past its end (the initial payload, or the start of
//! the peer's first messages) come out of `read` first, so the caller reads the 68-byte
//! BitTorrent handshake from it exactly as from a plain socket.
//!
//! A connection has a reader thread and a writer thread, each with its own socket
//! handle; [`MseStream::split`] gives each its half of the cipher state (RC4 keeps one
//! state per direction, so the halves share nothing).

use super::rc4::Rc4;
use crate::bittorrent::metainfo::InfoHash;
use std::io::{self, Read, Write};

/// What the handshake chose for the bytes after it (crypto_select).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// No MSE at all (a plaintext handshake), or MSE with crypto_select = 0x01.
    Plaintext,
    /// crypto_select = 0x02: every byte after the handshake goes through RC4.
    Rc4,
}

/// The receiving direction: decrypted bytes already read, then the cipher.
pub struct Inbound {
    pending: Vec<u8>,
    at: usize,
    rc4: Option<Rc4>,
}

impl Inbound {
    pub(super) fn new(pending: Vec<u8>, rc4: Option<Rc4>) -> Inbound {
        Inbound {
            pending,
            at: 0,
            rc4,
        }
    }

    fn read<R: Read>(&mut self, inner: &mut R, buf: &mut [u8]) -> io::Result<usize> {
        if self.at < self.pending.len() {
            let n = buf.len().min(self.pending.len() - self.at);
            buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
            self.at += n;
            if self.at == self.pending.len() {
                self.pending = Vec::new();
                self.at = 0;
            }
            return Ok(n);
        }
        let n = inner.read(buf)?;
        if let Some(rc4) = &mut self.rc4 {
            rc4.apply(&mut buf[..n]);
        }
        Ok(n)
    }
}

/// The sending direction: the cipher and a scratch buffer reused for every write.
pub struct Outbound {
    rc4: Option<Rc4>,
    scratch: Vec<u8>,
}

impl Outbound {
    pub(super) fn new(rc4: Option<Rc4>) -> Outbound {
        Outbound {
            rc4,
            scratch: Vec::new(),
        }
    }

    /// Writes all of `buf`: a short write would leave the keystream ahead of the bytes
    /// sent, so there is no partial `write` here.
    fn write_all<W: Write>(&mut self, inner: &mut W, buf: &[u8]) -> io::Result<()> {
        match &mut self.rc4 {
            None => inner.write_all(buf),
            Some(rc4) => {
                self.scratch.clear();
                self.scratch.extend_from_slice(buf);
                rc4.apply(&mut self.scratch);
                inner.write_all(&self.scratch)
            }
        }
    }

    fn write_in_place<W: Write>(&mut self, inner: &mut W, buf: &mut [u8]) -> io::Result<()> {
        if let Some(rc4) = &mut self.rc4 {
            rc4.apply(buf);
        }
        inner.write_all(buf)
    }
}

/// A connection after [`super::initiate`] or [`super::accept`].
pub struct MseStream<S> {
    inner: S,
    recv: Inbound,
    send: Outbound,
    method: Method,
    info_hash: Option<InfoHash>,
}

impl<S> MseStream<S> {
    pub(super) fn new(
        inner: S,
        recv: Inbound,
        send: Outbound,
        method: Method,
        info_hash: Option<InfoHash>,
    ) -> MseStream<S> {
        MseStream {
            inner,
            recv,
            send,
            method,
            info_hash,
        }
    }

    /// A stream that was never encrypted: the bytes in `pending` come first.
    pub fn plaintext(inner: S, pending: Vec<u8>) -> MseStream<S> {
        MseStream::new(
            inner,
            Inbound::new(pending, None),
            Outbound::new(None),
            Method::Plaintext,
            None,
        )
    }

    pub fn method(&self) -> Method {
        self.method
    }

    /// True when the bytes after the handshake are RC4-encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.method == Method::Rc4
    }

    /// The info-hash the MSE handshake named (SKEY); `None` after a plaintext start.
    pub fn info_hash(&self) -> Option<InfoHash> {
        self.info_hash
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Splits into a reading half over this stream's socket and a writing half over
    /// `writer` (for a TCP connection: `stream.get_ref().try_clone()?`).
    pub fn split<W>(self, writer: W) -> (MseReader<S>, MseWriter<W>) {
        (
            MseReader {
                inner: self.inner,
                recv: self.recv,
            },
            MseWriter {
                inner: writer,
                send: self.send,
            },
        )
    }
}

impl<S: Read> Read for MseStream<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.recv.read(&mut self.inner, buf)
    }
}

impl<S: Write> Write for MseStream<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.send.write_all(&mut self.inner, buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The reading half of an [`MseStream`].
pub struct MseReader<R> {
    inner: R,
    recv: Inbound,
}

impl<R> MseReader<R> {
    pub fn get_ref(&self) -> &R {
        &self.inner
    }
}

impl<R: Read> Read for MseReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.recv.read(&mut self.inner, buf)
    }
}

/// The writing half of an [`MseStream`].
pub struct MseWriter<W> {
    inner: W,
    send: Outbound,
}

impl<W: Write> MseWriter<W> {
    /// Encrypts `buf` where it lies and sends it: the seeder's send buffer, filled from
    /// disk, is not copied once more.
    pub fn send_in_place(&mut self, buf: &mut [u8]) -> io::Result<()> {
        self.send.write_in_place(&mut self.inner, buf)
    }

    pub fn get_ref(&self) -> &W {
        &self.inner
    }
}

impl<W: Write> Write for MseWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.send.write_all(&mut self.inner, buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Shows what was negotiated, never the cipher state.
impl<S> std::fmt::Debug for MseStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MseStream")
            .field("method", &self.method)
            .field("info_hash", &self.info_hash)
            .field("pending", &(self.recv.pending.len() - self.recv.at))
            .finish()
    }
}
