//! Downloads: a File's content or any link, streamed, through the request core.

use std::fmt;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use reqwest::Method;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use serde_json::Value;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::client::Client;
use crate::encode::encode_path_segment;
use crate::error::{Error, ErrorKind, Result};
use crate::http::execute::{AuthMode, Prepared, Resend, Target};

impl Client {
    /// Downloads the content of the File record `file_id`: reads the record for its
    /// `downloadUrl` and streams that.
    ///
    /// ```no_run
    /// # async fn demo(client: atrocore_runtime::Client) -> atrocore_runtime::Result<()> {
    /// use futures_util::TryStreamExt;
    ///
    /// let mut download = client.download_file("a01file").await?;
    /// println!("{:?} bytes of {:?}", download.content_length(), download.content_type());
    /// while let Some(piece) = download.try_next().await? {
    ///     println!("{} bytes", piece.len());
    /// }
    /// let saved: u64 = client.download_file("a01file").await?.save("/tmp/copy.bin").await?;
    /// # let _ = saved;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn download_file(&self, file_id: &str) -> Result<FileDownload> {
        let path = format!("/File/{}", encode_path_segment(file_id));
        let record: Value = self.request(Method::GET, path.clone()).send_json().await?;
        let url = download_url_of(&record).ok_or_else(|| {
            Error::new(ErrorKind::Decode)
                .with_message("the File record has no `downloadUrl`")
                .with_request(&Method::GET, &path)
        })?;
        self.download_url(url).await
    }

    /// Streams the content at `url`: absolute, or relative to the instance root
    /// (`/downloads/…`). The token is sent only to the instance's own origin.
    pub async fn download_url(&self, url: &str) -> Result<FileDownload> {
        self.fetch_url(url, true).await
    }

    /// The instance root URL (the base URL without the API base path).
    pub(crate) fn instance_root(&self) -> &str {
        let base = self.base_url();
        base.strip_suffix(self.api_base_path()).unwrap_or(base)
    }

    /// GET of an absolute or root-relative URL, with retries for transport errors and
    /// retryable statuses; with `auth`, the token goes along to the instance's own origin.
    pub(crate) async fn fetch_url(&self, url: &str, auth: bool) -> Result<FileDownload> {
        let root = self.instance_root();
        let full = if url.starts_with("http://") || url.starts_with("https://") {
            url.to_owned()
        } else {
            format!(
                "{}/{}",
                root.trim_end_matches('/'),
                url.trim_start_matches('/')
            )
        };
        let shown = strip_url(&full);
        let parsed = reqwest::Url::parse(&full).map_err(|e| {
            Error::builder("invalid download URL")
                .with_source(e)
                .with_request(&Method::GET, &shown)
        })?;
        let prepared = Prepared {
            method: Method::GET,
            target: Target::Url {
                url: parsed,
                shown: shown.clone(),
            },
            query: Vec::new(),
            headers: reqwest::header::HeaderMap::new(),
            body: None,
            resend: Resend::Safe,
            extra_retries: 0,
            timeout: None,
            idle_body: true,
        };
        // The token goes only to the instance's origin (the core checks it).
        let mode = if auth {
            AuthMode::Session(&*self.inner)
        } else {
            AuthMode::Anonymous
        };
        let response = prepared.execute(&self.inner, mode).await?;
        Ok(FileDownload::from_response(
            response,
            shown,
            self.inner.timeout,
        ))
    }
}

/// The URL without query string (it may carry a secret), for error messages.
fn strip_url(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or("").to_owned()
}

/// `downloadUrl`, else `url`, of a File record.
pub(crate) fn download_url_of(record: &Value) -> Option<&str> {
    ["downloadUrl", "url"]
        .iter()
        .find_map(|k| record.get(*k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
}

/// The content of a file, streamed: a [`Stream`] of byte pieces, or written out with
/// [`write_to`](Self::write_to) / [`save`](Self::save), or gathered with [`bytes`](Self::bytes).
pub struct FileDownload {
    content_length: Option<u64>,
    content_type: Option<String>,
    file_name: Option<String>,
    url: String,
    stream: Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>,
}

impl fmt::Debug for FileDownload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileDownload")
            .field("url", &self.url)
            .field("content_length", &self.content_length)
            .field("content_type", &self.content_type)
            .field("file_name", &self.file_name)
            .finish_non_exhaustive()
    }
}

impl FileDownload {
    /// The download of `resp`'s body. `idle`: the longest wait for the next piece (the client's
    /// per-attempt timeout); the transfer as a whole has no limit, so a long healthy download
    /// is never cut, while a stalled one fails with a timeout.
    fn from_response(resp: reqwest::Response, url: String, idle: Option<Duration>) -> Self {
        let headers = resp.headers();
        let text = |h| {
            headers
                .get(h)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_length = text(CONTENT_LENGTH).and_then(|v| v.trim().parse().ok());
        let content_type = text(CONTENT_TYPE);
        let file_name = text(CONTENT_DISPOSITION).and_then(|d| {
            d.split(';')
                .map(str::trim)
                .find_map(|p| p.strip_prefix("filename="))
                .map(|n| n.trim_matches('"').to_owned())
        });
        let shown = url.clone();
        let body = Box::pin(resp.bytes_stream());
        let stream = futures_util::stream::unfold(Some(body), move |body| {
            let shown = shown.clone();
            async move {
                let mut body = body?;
                let next = match idle {
                    Some(t) => match tokio::time::timeout(t, body.next()).await {
                        Ok(next) => next,
                        Err(_) => {
                            let e = Error::new(ErrorKind::Timeout)
                                .with_message(format!(
                                    "no data for {} s: the download stalled",
                                    t.as_secs_f64()
                                ))
                                .with_request(&Method::GET, &shown);
                            return Some((Err(e), None));
                        }
                    },
                    None => body.next().await,
                };
                let piece =
                    next?.map_err(|e| Error::body_cut(e).with_request(&Method::GET, &shown));
                Some((piece, Some(body)))
            }
        });
        Self {
            content_length,
            content_type,
            file_name,
            url,
            stream: Box::pin(stream),
        }
    }

    /// The size announced by the server (`Content-Length`).
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// The `Content-Type` header.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The file name from `Content-Disposition`.
    pub fn file_name(&self) -> Option<&str> {
        self.file_name.as_deref()
    }

    /// Reads the whole content into memory.
    pub async fn bytes(mut self) -> Result<Bytes> {
        let mut out = Vec::with_capacity(
            self.content_length
                .map_or(0, |l| usize::try_from(l.min(1 << 30)).unwrap_or(0)),
        );
        while let Some(piece) = self.stream.next().await {
            out.extend_from_slice(&piece?);
        }
        Ok(Bytes::from(out))
    }

    /// Writes the content to `out` piece by piece; returns the number of bytes.
    pub async fn write_to<W: AsyncWrite + Unpin + ?Sized>(mut self, out: &mut W) -> Result<u64> {
        let mut n = 0u64;
        while let Some(piece) = self.stream.next().await {
            let piece = piece?;
            out.write_all(&piece)
                .await
                .map_err(|e| io_error("cannot write the download", e))?;
            n += piece.len() as u64;
        }
        out.flush()
            .await
            .map_err(|e| io_error("cannot write the download", e))?;
        Ok(n)
    }

    /// Writes the content to the file at `path`; returns the number of bytes. The content goes
    /// to a temporary file beside it, renamed to `path` only once complete: an interrupted
    /// download never leaves a partial file under the final name (nor replaces an older one).
    pub async fn save(self, path: impl AsRef<Path>) -> Result<u64> {
        let path = path.as_ref();
        let name = path
            .file_name()
            .ok_or_else(|| Error::builder("the download path has no file name"))?;
        let temp = path.with_file_name(format!(
            ".{}.part-{}",
            name.to_string_lossy(),
            crate::rng::range_inclusive(0, u64::MAX)
        ));
        let result = async {
            let mut file = tokio::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)
                .await
                .map_err(|e| io_error("cannot create the download file", e))?;
            let n = self.write_to(&mut file).await?;
            file.sync_all()
                .await
                .map_err(|e| io_error("cannot write the download", e))?;
            drop(file);
            tokio::fs::rename(&temp, path)
                .await
                .map_err(|e| io_error("cannot move the download into place", e))?;
            Ok(n)
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&temp).await;
        }
        result
    }

    /// Whether the content equals `expected`, compared piece by piece as it arrives.
    pub async fn matches(mut self, expected: &[u8]) -> Result<bool> {
        let mut at = 0usize;
        while let Some(piece) = self.stream.next().await {
            let piece = piece?;
            let end = at + piece.len();
            if end > expected.len() || expected[at..end] != piece[..] {
                return Ok(false);
            }
            at = end;
        }
        Ok(at == expected.len())
    }
}

impl Stream for FileDownload {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.stream.as_mut().poll_next(cx)
    }
}

/// An I/O failure while reading a source or writing a file, as a runtime error.
pub(super) fn io_error(message: &'static str, e: std::io::Error) -> Error {
    Error::new(ErrorKind::Builder)
        .with_message(message)
        .with_source(e)
}
