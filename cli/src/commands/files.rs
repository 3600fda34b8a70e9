//! `atro upload` and `atro download`.
//!
//! Uploads go through the runtime's file upload (Base64 for small files, parallel chunks above
//! the chunk size), several files at once. Each file's chunk session (the File id and hash the
//! chunks carry) is saved in the state folder before the upload starts and removed when it
//! succeeds, so running the same command again after a failure resumes: the server's stored
//! chunks are skipped.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use atrocore_runtime::{ChunkSession, NameConflict};
use futures_util::{StreamExt, stream};
use indicatif::MultiProgress;

use super::session::Session;
use crate::args::{OnConflict, UploadArgs};
use crate::exit::{CliError, CliResult, Exit};
use crate::output;
use crate::progress::{Progress, Unit};

/// Where resumable upload sessions are kept: `ATRO_STATE_DIR`, else the user's cache folder.
fn state_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("ATRO_STATE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("uploads"));
    }
    directories::ProjectDirs::from("", "", "atro").map(|d| d.cache_dir().join("uploads"))
}

/// The session file of one upload: named by the instance, the file (path, size, modification
/// time), the folder and the chunk size, so that only the same upload resumes.
fn session_file(
    base_url: &str,
    path: &Path,
    folder: Option<&str>,
    chunk: usize,
) -> Option<PathBuf> {
    let meta = std::fs::metadata(path).ok()?;
    let canonical = std::fs::canonicalize(path).ok()?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    base_url.hash(&mut h);
    canonical.hash(&mut h);
    meta.len().hash(&mut h);
    meta.modified().ok().hash(&mut h);
    folder.hash(&mut h);
    chunk.hash(&mut h);
    Some(state_dir()?.join(format!("{:016x}.json", h.finish())))
}

fn load_session(file: Option<&Path>) -> (ChunkSession, bool) {
    let saved = file
        .and_then(|f| std::fs::read(f).ok())
        .and_then(|bytes| serde_json::from_slice::<ChunkSession>(&bytes).ok());
    match saved {
        Some(s) => (s, true),
        None => (ChunkSession::new(), false),
    }
}

fn save_session(file: Option<&Path>, session: &ChunkSession) {
    if let Some(f) = file {
        if let Some(dir) = f.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Ok(text) = serde_json::to_vec(session) {
            let _ = std::fs::write(f, text);
        }
    }
}

/// An uploaded file: id, name, size.
type Uploaded = (String, String, u64);

/// Uploads every path; prints `id<TAB>name<TAB>path` per file.
pub async fn upload(s: &Session, args: &UploadArgs) -> CliResult<Exit> {
    for p in &args.paths {
        if !p.is_file() {
            return Err(CliError::usage(format!("{} is not a file", p.display())));
        }
    }
    if args.replace.is_some() && args.paths.len() != 1 {
        return Err(CliError::usage(
            "--replace takes one file: the new content of that File record",
        ));
    }
    let policy = match args.on_conflict {
        OnConflict::Fail => NameConflict::Fail,
        OnConflict::Reuse => NameConflict::Reuse,
        OnConflict::Rename => NameConflict::Rename,
    };
    let chunk = args.chunk_kib.max(1) * 1024;
    let multi = MultiProgress::new();
    let results: Vec<(PathBuf, CliResult<Uploaded>)> = stream::iter(args.paths.clone())
        .map(|path| {
            let client = s.client.clone();
            let multi = multi.clone();
            let folder = args.folder.clone();
            let replace = args.replace.clone();
            let parallel = args.parallel_chunks.max(1);
            async move {
                let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                let label = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let progress = Arc::new(Mutex::new(Progress::in_multi(
                    &multi,
                    &label,
                    Unit::Bytes,
                    Some(size),
                )));
                // A reupload resumes apart from an upload of the same file.
                let place = match &replace {
                    Some(id) => Some(format!("replace:{id}")),
                    None => folder.clone(),
                };
                let state = session_file(client.base_url(), &path, place.as_deref(), chunk);
                let (session, resumed) = load_session(state.as_deref());
                save_session(state.as_deref(), &session);
                let shown = progress.clone();
                let mut upload = client
                    .upload_path(&path)
                    .chunk_size(chunk)
                    .parallel_chunks(parallel)
                    .on_name_conflict(policy)
                    .session(session)
                    .on_progress(move |p| {
                        if let Ok(mut bar) = shown.lock() {
                            bar.set(p.bytes_done);
                        }
                    });
                if let Some(f) = &folder {
                    upload = upload.field("folderId", f.as_str());
                }
                if let Some(id) = &replace {
                    upload = upload.replacing(id.as_str());
                }
                let result = upload.await;
                let bar = progress
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let out = match result {
                    Ok(file) => {
                        if let Some(f) = &state {
                            let _ = std::fs::remove_file(f);
                        }
                        let mut bar = bar;
                        bar.set(size);
                        bar.finish();
                        if resumed && file.chunks_skipped > 0 {
                            eprintln!(
                                "{}: resumed, {} chunks were on the server already",
                                path.display(),
                                file.chunks_skipped
                            );
                        }
                        let name = file
                            .record
                            .get("name")
                            .and_then(serde_json::Value::as_str)
                            .unwrap_or(&label)
                            .to_owned();
                        Ok((file.id, name, size))
                    }
                    Err(e) => {
                        bar.abandon();
                        let conflict = e.kind() == atrocore_runtime::ErrorKind::Conflict;
                        let mut e = CliError::from(e);
                        if conflict {
                            // In the terms of this command, not of the library's API.
                            e.message = e.message.replace(
                                "upload with NameConflict::Reuse or NameConflict::Rename",
                                "pass --on-conflict reuse (use that file) or --on-conflict \
                                 rename (upload as `name (1).ext`)",
                            );
                        }
                        Err(e)
                    }
                };
                (path, out)
            }
        })
        .buffered(args.jobs.max(1))
        .collect()
        .await;
    let mut failed = Vec::new();
    let one = args.paths.len() == 1;
    for (path, r) in results {
        match r {
            Ok((id, name, _)) => output::line(format_args!("{id}\t{name}\t{}", path.display()))?,
            Err(e) => {
                // One file: its error is the command's, printed once by `main`.
                if !one {
                    eprintln!("atro: {}: {}", path.display(), e.message);
                }
                failed.push(e);
            }
        }
    }
    match failed.len() {
        0 => Ok(Exit::Ok),
        n if n == args.paths.len() && n == 1 => {
            let e = failed.remove(0);
            Err(CliError::new(
                e.code,
                format!("upload failed: {}", e.message),
            ))
        }
        n if n == args.paths.len() => Ok(failed[0].code),
        _ => Ok(Exit::Partial),
    }
}

/// A file name from the server reduced to its last component, control characters dropped;
/// `None` when that is not a plain name to create here (empty, `.`, `..`, a hidden file's
/// leading dot, or a `:`, which names a drive or a stream on Windows): the caller names the file
/// by its id instead.
fn safe_name(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).next()?;
    let cleaned: String = last.chars().filter(|c| !c.is_control()).collect();
    let cleaned = cleaned.trim();
    (!cleaned.is_empty() && !cleaned.starts_with('.') && !cleaned.contains(':'))
        .then(|| cleaned.to_owned())
}

/// Whether an output path is `-`: standard output, as shells expect.
pub(crate) fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Saves the content of the File `id` (to standard output with `-o -`).
pub async fn download(
    s: &Session,
    id: &str,
    output: Option<&Path>,
    force: bool,
) -> CliResult<Exit> {
    let dl = s.client.download_file(id).await?;
    if output.is_some_and(is_stdout) {
        // `-o -`: the content to standard output, nothing else there.
        let mut out = tokio::io::stdout();
        let n = dl.write_to(&mut out).await?;
        tokio::io::AsyncWriteExt::flush(&mut out).await?;
        eprintln!("wrote {n} bytes to standard output");
        return Ok(Exit::Ok);
    }
    let server_name = dl.file_name().and_then(safe_name);
    let target = match output {
        Some(p) if p.is_dir() => p.join(server_name.unwrap_or_else(|| id.to_owned())),
        Some(p) => p.to_owned(),
        None => PathBuf::from(server_name.unwrap_or_else(|| id.to_owned())),
    };
    if target.exists() && !force {
        return Err(CliError::usage(format!(
            "{} exists: pass --force to overwrite it, or -o to choose another path",
            target.display()
        )));
    }
    let n = dl.save(&target).await?;
    eprintln!("saved {n} bytes to {}", target.display());
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names_cannot_leave_the_folder() {
        assert_eq!(safe_name("a.txt").as_deref(), Some("a.txt"));
        assert_eq!(safe_name("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(safe_name("..\\x.bin").as_deref(), Some("x.bin"));
        assert_eq!(safe_name(".."), None);
        assert_eq!(safe_name("dir/"), None);
        // Hidden files, drives and streams, and terminal escapes.
        assert_eq!(safe_name(".bashrc"), None);
        assert_eq!(safe_name("../.ssh"), None);
        assert_eq!(safe_name("C:evil.txt"), None);
        assert_eq!(safe_name("report.txt:hidden"), None);
        assert_eq!(
            safe_name("re\u{1b}[31mport\r.txt").as_deref(),
            Some("re[31mport.txt")
        );
    }
}
