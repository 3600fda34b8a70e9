//! File contents and upload chunks on disk, outside the SQLite lock, as AtroCore keeps them
//! (`Core/FileStorage/LocalStorage.php`: `createChunk` writes `chunks/<fileUniqueHash>/<start>`
//! and lists the folder; the assembled file is a file of the storage, the record points at it).
//!
//! Layout under the folder (`<db>.files` next to a database file, else a temporary folder removed
//! with the store): `chunks/<key>/<start>` (one file per chunk, written to `tmp/` first and
//! renamed, so a listed chunk is complete), `assembling/<n>` (a chunk folder claimed by the
//! chunk that completed it), `content/<n>` (a file's content, named once and never rewritten),
//! `tmp/`. Keys and names are hex-encoded or generated here: nothing from a request becomes a
//! path unencoded.
//!
//! A content is written completely (streamed from the chunks, hashed on the way) before the
//! record that points at it exists; until the record is committed it is a [`Content`] that
//! removes its file when dropped, so a failure leaves no file behind and no record without its
//! content.

use std::fs;
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use md5::Digest as _;

/// The folder of file contents and chunks.
#[derive(Debug)]
pub struct FileDir {
    root: PathBuf,
    /// A folder of an in-memory database, removed with the store.
    _temp: Option<tempfile::TempDir>,
}

/// Names made in this process so far (one counter for every store: two stores of the same
/// database in one process never make the same name).
static NEXT: AtomicU64 = AtomicU64::new(0);

/// A content file written completely, not yet the content of a record: dropping it removes the
/// file ([`keep`](Self::keep) when the record that names it is committed).
#[derive(Debug)]
pub struct Content {
    path: PathBuf,
    name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its MD5, lowercase hex: what AtroCore stores as the File's `hash`
    /// (`Core/FileStorage/LocalStorage.php`, `md5File`).
    pub md5: String,
    kept: bool,
}

impl Content {
    /// The name the store records for this content.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The record naming this content was committed: the file stays.
    pub fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for Content {
    fn drop(&mut self) {
        if !self.kept {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// A chunk folder claimed for assembly (renamed away from `chunks/`, so no other request sees
/// it); dropping it removes what is left of it.
#[derive(Debug)]
pub struct Claimed {
    dir: PathBuf,
}

impl Drop for Claimed {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

impl FileDir {
    /// The folder of the database at `db` (`<db>.files`, created when first written), or a fresh
    /// temporary folder for an in-memory database.
    pub fn open(db: Option<&Path>) -> io::Result<FileDir> {
        let (root, temp) = match db {
            Some(db) => {
                let mut name = db.as_os_str().to_owned();
                name.push(".files");
                (PathBuf::from(name), None)
            }
            None => {
                let t = tempfile::Builder::new().prefix("atrocore-sim-").tempdir()?;
                (t.path().to_owned(), Some(t))
            }
        };
        Ok(FileDir { root, _temp: temp })
    }

    /// A name not used before in this folder (the process, a counter and the clock).
    fn unique(&self) -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!(
            "{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        )
    }

    fn sub(&self, dir: &str) -> io::Result<PathBuf> {
        let p = self.root.join(dir);
        fs::create_dir_all(&p)?;
        Ok(p)
    }

    fn chunk_dir(&self, key: &str) -> PathBuf {
        self.root.join("chunks").join(hex(key))
    }

    /// Stores one chunk of the upload `key` (the same start again replaces it) and returns the
    /// starts stored so far, in increasing order.
    pub fn put_chunk(&self, key: &str, start: u64, bytes: &[u8]) -> io::Result<Vec<u64>> {
        let tmp = self.sub("tmp")?.join(self.unique());
        fs::write(&tmp, bytes)?;
        let dir = self.chunk_dir(key);
        fs::create_dir_all(&dir)?;
        let done = fs::rename(&tmp, dir.join(start.to_string()));
        if done.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        done?;
        self.chunk_starts(key)
    }

    /// The starts of the chunks stored for `key`, in increasing order.
    pub fn chunk_starts(&self, key: &str) -> io::Result<Vec<u64>> {
        starts_in(&self.chunk_dir(key))
    }

    /// Takes the chunks of `key` away for assembly; `None` when another request took them first
    /// (or there are none).
    pub fn claim_chunks(&self, key: &str) -> io::Result<Option<Claimed>> {
        let to = self.sub("assembling")?.join(self.unique());
        match fs::rename(self.chunk_dir(key), &to) {
            Ok(()) => Ok(Some(Claimed { dir: to })),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Forgets the chunks of `key`.
    pub fn drop_chunks(&self, key: &str) -> io::Result<()> {
        match fs::remove_dir_all(self.chunk_dir(key)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Joins claimed chunks in offset order into a new content file, streamed (one buffer of
    /// memory) and hashed on the way; the chunks are removed.
    pub fn assemble(&self, claimed: Claimed) -> io::Result<Content> {
        let starts = starts_in(&claimed.dir)?;
        self.write_content(|out, md5| {
            let mut buf = vec![0u8; 1 << 20];
            let mut size = 0u64;
            for start in starts {
                let mut chunk = fs::File::open(claimed.dir.join(start.to_string()))?;
                loop {
                    let n = chunk.read(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    md5.update(&buf[..n]);
                    out.write_all(&buf[..n])?;
                    size += n as u64;
                }
            }
            Ok(size)
        })
    }

    /// A new content file holding `bytes`.
    pub fn content_from(&self, bytes: &[u8]) -> io::Result<Content> {
        self.write_content(|out, md5| {
            md5.update(bytes);
            out.write_all(bytes)?;
            Ok(bytes.len() as u64)
        })
    }

    /// Writes a content file through `fill` (which returns the bytes written): under `tmp/`,
    /// then renamed into `content/` once complete and flushed.
    fn write_content(
        &self,
        fill: impl FnOnce(&mut io::BufWriter<fs::File>, &mut md5::Md5) -> io::Result<u64>,
    ) -> io::Result<Content> {
        let name = self.unique();
        let tmp = self.sub("tmp")?.join(&name);
        let written = (|| {
            let mut out = io::BufWriter::with_capacity(1 << 20, fs::File::create(&tmp)?);
            let mut md5 = md5::Md5::new();
            let size = fill(&mut out, &mut md5)?;
            out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            Ok::<_, io::Error>((size, format!("{:x}", md5.finalize())))
        })();
        let (size, md5) = match written {
            Ok(w) => w,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        let path = self.sub("content")?.join(&name);
        if let Err(e) = fs::rename(&tmp, &path) {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(Content {
            path,
            name,
            size,
            md5,
            kept: false,
        })
    }

    /// The path of the content `name` (as recorded by the store), if the name is one this
    /// folder makes.
    pub fn content_path(&self, name: &str) -> Option<PathBuf> {
        let plain = !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit() || b == b'-');
        plain.then(|| self.root.join("content").join(name))
    }

    /// Removes the content `name` (a record's content that was replaced).
    pub fn remove_content(&self, name: &str) {
        if let Some(p) = self.content_path(name) {
            let _ = fs::remove_file(p);
        }
    }
}

/// The chunk starts stored in `dir` (file names that are numbers), sorted.
fn starts_in(dir: &Path) -> io::Result<Vec<u64>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut starts = Vec::new();
    for entry in entries {
        if let Some(start) = entry?.file_name().to_str().and_then(|n| n.parse().ok()) {
            starts.push(start);
        }
    }
    starts.sort_unstable();
    Ok(starts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_assembled_in_offset_order_and_removed() {
        let dir = FileDir::open(None).unwrap();
        let key = "file/../../etc\u{e9}";
        assert_eq!(dir.put_chunk(key, 6, b"world").unwrap(), [6]);
        assert_eq!(dir.put_chunk(key, 0, b"hello ").unwrap(), [0, 6]);
        assert_eq!(
            dir.put_chunk(key, 0, b"HELLO ").unwrap(),
            [0, 6],
            "replaced"
        );
        let claimed = dir.claim_chunks(key).unwrap().unwrap();
        assert!(dir.claim_chunks(key).unwrap().is_none(), "claimed once");
        assert!(dir.chunk_starts(key).unwrap().is_empty());
        let content = dir.assemble(claimed).unwrap();
        assert_eq!(content.size, 11);
        assert_eq!(
            content.md5,
            format!("{:x}", md5::Md5::digest(b"HELLO world"))
        );
        let path = dir.content_path(content.name()).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"HELLO world");
        assert_eq!(
            fs::read_dir(dir.root.join("assembling")).unwrap().count(),
            0
        );
        assert_eq!(fs::read_dir(dir.root.join("tmp")).unwrap().count(), 0);
        content.keep();
        assert!(path.exists());
        dir.remove_content(path.file_name().unwrap().to_str().unwrap());
        assert!(!path.exists());
    }

    #[test]
    fn content_not_kept_is_removed() {
        let dir = FileDir::open(None).unwrap();
        let content = dir.content_from(b"abc").unwrap();
        let path = dir.content_path(content.name()).unwrap();
        assert!(path.exists());
        drop(content);
        assert!(
            !path.exists(),
            "a content whose record was not written is removed"
        );
        assert_eq!(dir.content_path("../x"), None);
        assert_eq!(dir.content_path(""), None);
    }

    #[test]
    fn a_database_file_keeps_its_contents_beside_it() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = FileDir::open(Some(&tmp.path().join("sim.db"))).unwrap();
        dir.content_from(b"x").unwrap().keep();
        assert!(tmp.path().join("sim.db.files/content").is_dir());
    }
}
