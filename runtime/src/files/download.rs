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
        self.fetch_from(url, auth, None).await
    }

    /// [`fetch_url`](Self::fetch_url) from byte `from` on, when `resume` says where and which
    /// version (`Range` with `If-Range`: a server that cannot, or whose file changed, answers
    /// the whole content with `200`).
    async fn fetch_from(
        &self,
        url: &str,
        auth: bool,
        resume: Option<&Resume>,
    ) -> Result<FileDownload> {
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
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(r) = resume
            && let (Ok(range), Ok(validator)) = (
                reqwest::header::HeaderValue::from_str(&format!("bytes={}-", r.from)),
                reqwest::header::HeaderValue::from_str(&r.validator),
            )
        {
            headers.insert(reqwest::header::RANGE, range);
            headers.insert(reqwest::header::IF_RANGE, validator);
        }
        let prepared = Prepared {
            method: Method::GET,
            target: Target::Url {
                url: parsed,
                shown: shown.clone(),
            },
            query: Vec::new(),
            headers,
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
        let mut download = FileDownload::from_response(response, shown, self.inner.timeout);
        download.again = Some(Again {
            client: self.clone(),
            url: full,
            auth,
        });
        Ok(download)
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
    /// The answer is the rest of the content from a `Range` (`206`).
    partial: bool,
    /// Where a partial answer starts (`Content-Range`).
    range_start: Option<u64>,
    /// The content's version (`ETag`, else `Last-Modified`) when the server takes ranges
    /// (`Accept-Ranges: bytes`): what a resumed request names in `If-Range`.
    validator: Option<String>,
    /// How to ask again, for [`save`](Self::save) after a cut.
    again: Option<Again>,
}

/// The request of a download, to send again.
struct Again {
    client: Client,
    url: String,
    auth: bool,
}

/// Where a download resumes: from byte `from` of the version `validator`.
struct Resume {
    from: u64,
    validator: String,
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
        let partial = resp.status() == reqwest::StatusCode::PARTIAL_CONTENT;
        let range_start = text(reqwest::header::CONTENT_RANGE).and_then(|r| {
            r.strip_prefix("bytes ")?
                .split('-')
                .next()?
                .trim()
                .parse()
                .ok()
        });
        let validator = text(reqwest::header::ACCEPT_RANGES)
            .filter(|r| r.split(',').any(|u| u.trim().eq_ignore_ascii_case("bytes")))
            .and_then(|_| {
                text(reqwest::header::ETAG).or_else(|| text(reqwest::header::LAST_MODIFIED))
            });
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
            partial,
            range_start,
            validator,
            again: None,
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
    ///
    /// A transfer cut short (a dropped connection, a stall past the timeout) is asked for again,
    /// up to the client's `max_retries` times: from where it stopped when the server takes
    /// ranges for this version of the content (`Accept-Ranges: bytes` with an `ETag` or
    /// `Last-Modified`, sent back in `If-Range`), else from the start, the partial copy
    /// discarded. AtroCore's own `/downloads/` entry point streams the whole file every time
    /// (`app/Atro/EntryPoints/Download.php`), so there a download starts over.
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
            let n = self.write_resuming(&mut file).await?;
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

    /// Writes the content to `file`, asking again after a cut (see [`save`](Self::save)).
    async fn write_resuming(mut self, file: &mut tokio::fs::File) -> Result<u64> {
        use tokio::io::AsyncSeekExt;
        let mut written = 0u64;
        let mut tries = 0u32;
        loop {
            let cut = loop {
                match self.stream.next().await {
                    None => return Ok(written),
                    Some(Ok(piece)) => {
                        file.write_all(&piece)
                            .await
                            .map_err(|e| io_error("cannot write the download", e))?;
                        written += piece.len() as u64;
                    }
                    Some(Err(e)) => break e,
                }
            };
            let Some(again) = self.again.take() else {
                return Err(cut);
            };
            let transient = cut.is_transport() || cut.is_timeout();
            if !transient || tries >= again.client.retry_policy().max_retries {
                return Err(cut);
            }
            tries += 1;
            let resume = self.validator.take().map(|validator| Resume {
                from: written,
                validator,
            });
            tracing::debug!(
                written,
                tries,
                ranged = resume.is_some(),
                "download cut: asking again"
            );
            let next = again
                .client
                .fetch_from(&again.url, again.auth, resume.as_ref())
                .await?;
            if next.partial && next.range_start != Some(written) {
                return Err(Error::new(ErrorKind::Decode)
                    .with_message(format!(
                        "the server resumed the download at {}, not at byte {written}",
                        next.range_start
                            .map_or("an unknown byte".to_owned(), |s| format!("byte {s}"))
                    ))
                    .with_request(&Method::GET, &next.url));
            }
            if !next.partial {
                // The whole content again: start over.
                file.set_len(0)
                    .await
                    .map_err(|e| io_error("cannot write the download", e))?;
                file.seek(std::io::SeekFrom::Start(0))
                    .await
                    .map_err(|e| io_error("cannot write the download", e))?;
                written = 0;
            }
            self = next;
        }
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
