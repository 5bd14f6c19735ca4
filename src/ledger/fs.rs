//! The file layer the ledger writes through.
//!
//! Every byte the ledger stores goes through [`Fs`] and [`FileHandle`], so the durability
//! argument (invariant 7) can be tested rather than trusted: the power-cut test double,
//! `SimFs` in `tests/simfs.rs`, keeps across a simulated power cut only the bytes a
//! `sync_data` made durable and only the directory entries a `sync_dir` made durable, and
//! can fail any one operation, or every operation from some point on.
//!
//! What the real layer assumes of the disk: `fdatasync` makes a file's written bytes and
//! its size durable, `fsync` of a directory makes the names in it durable, and an appended
//! byte that is synced stays as written (no bit rot: that is what frame checksums and
//! `verify` catch). Bytes not yet synced may be lost, or survive in part and in any order
//! (a disk writes dirty sectors back as it pleases); the test double does both.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::Path;

/// Directory operations the ledger needs.
pub trait Fs: Send + Sync {
    /// Opens an existing file for reading.
    fn open_read(&self, path: &Path) -> io::Result<Box<dyn FileHandle>>;
    /// Opens a file for reading and writing, creating it empty when missing. A created
    /// file's name is durable only after `sync_dir` of its directory.
    fn open_write(&self, path: &Path) -> io::Result<Box<dyn FileHandle>>;
    fn exists(&self, path: &Path) -> bool;
    fn create_dir_all(&self, path: &Path) -> io::Result<()>;
    /// Makes the names in directory `path` durable.
    fn sync_dir(&self, path: &Path) -> io::Result<()>;
    fn remove_file(&self, path: &Path) -> io::Result<()>;
}

/// One open file. Writes are positional, so appends by the writer and reads by anyone
/// never share a cursor.
pub trait FileHandle: Send + Sync {
    fn len(&self) -> io::Result<u64>;
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }
    /// Reads exactly `buf.len()` bytes at `offset`.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    fn write_at(&self, offset: u64, bytes: &[u8]) -> io::Result<()>;
    /// Makes every byte written so far, and the file's length, durable.
    fn sync_data(&self) -> io::Result<()>;
    fn set_len(&self, len: u64) -> io::Result<()>;
}

/// Reads the whole file at `path`.
pub fn read_all(fs: &dyn Fs, path: &Path) -> io::Result<Vec<u8>> {
    read_whole(fs.open_read(path)?.as_ref())
}

/// Reads the whole of `file`. A writer may cut the file between the length and the read (the
/// checkpoint log's zeros ahead, when it closes; the index, when it opens): the read then
/// ends early, and is made again at the new length.
pub fn read_whole(file: &dyn FileHandle) -> io::Result<Vec<u8>> {
    let mut attempts = 0;
    loop {
        let len = usize::try_from(file.len()?).map_err(io::Error::other)?;
        let mut buf = vec![0u8; len];
        match file.read_at(0, &mut buf) {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && attempts < 8 => attempts += 1,
            other => return other.map(|()| buf),
        }
    }
}

/// The operating system's files.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsFs;

struct OsFile(File);

impl Fs for OsFs {
    fn open_read(&self, path: &Path) -> io::Result<Box<dyn FileHandle>> {
        Ok(Box::new(OsFile(File::open(path)?)))
    }
    fn open_write(&self, path: &Path) -> io::Result<Box<dyn FileHandle>> {
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        Ok(Box::new(OsFile(f)))
    }
    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        fs::create_dir_all(path)
    }
    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        File::open(path)?.sync_all()
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }
}

#[cfg(unix)]
impl FileHandle for OsFile {
    fn len(&self) -> io::Result<u64> {
        Ok(self.0.metadata()?.len())
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(&self.0, buf, offset)
    }
    fn write_at(&self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        std::os::unix::fs::FileExt::write_all_at(&self.0, bytes, offset)
    }
    fn sync_data(&self) -> io::Result<()> {
        self.0.sync_data()
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }
}
