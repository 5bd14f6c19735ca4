//! `SimFs`, the power-cut test double of the ledger's file layer
//! (`auditledger::ledger::fs`).
//!
//! It keeps, across a simulated power cut, only the bytes a `sync_data` made durable and
//! only the directory entries a `sync_dir` made durable; it can also fail any one
//! operation, or every operation from some point on, to exercise the fail-stop writer. The
//! model is the one redb's crash tests and TigerBeetle's storage simulator use: what was
//! not synced may be lost, and a prefix of the unsynced bytes may survive (a torn tail,
//! whether appended or written over zeros a writer wrote ahead), or any of their 512-byte
//! sectors, each on its own (a write's end without its start).

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use auditledger::ledger::fs::{FileHandle, Fs};

/// A simulated disk: see the module docs.
#[derive(Clone, Default)]
pub struct SimFs {
    state: Arc<Mutex<SimState>>,
}

#[derive(Default)]
struct SimState {
    /// File contents by id: what the page cache holds and what is on the platter.
    files: Vec<SimFile>,
    names: BTreeMap<PathBuf, usize>,
    durable_names: BTreeMap<PathBuf, usize>,
    dirs: BTreeSet<PathBuf>,
    durable_dirs: BTreeSet<PathBuf>,
    /// Mutating operations so far (writes, syncs, creates, truncations, removals).
    ops: u64,
    /// From this op on, every operation fails: the power is gone.
    cut_at: Option<u64>,
    /// This one op fails; later ones succeed (a transient I/O error).
    fail_at: Option<u64>,
}

#[derive(Clone, Default)]
struct SimFile {
    data: Vec<u8>,
    durable: Vec<u8>,
}

fn sim_error(what: &str) -> io::Error {
    io::Error::other(format!("simulated {what}"))
}

impl SimFs {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, SimState> {
        // A poisoned lock only means another test thread panicked; the state is still
        // the last consistent one, which is what a simulated disk should show.
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Cuts the power when the `n`th mutating operation from now is attempted: it and all
    /// later operations fail.
    pub fn cut_power_after(&self, n: u64) {
        let mut s = self.lock();
        s.cut_at = Some(s.ops + n);
    }

    /// Fails the `n`th mutating operation from now, once.
    pub fn fail_once_after(&self, n: u64) {
        let mut s = self.lock();
        s.fail_at = Some(s.ops + n);
    }

    /// Mutating operations performed so far.
    pub fn ops(&self) -> u64 {
        self.lock().ops
    }

    /// Whether the power has been cut.
    pub fn is_cut(&self) -> bool {
        let s = self.lock();
        s.cut_at.is_some_and(|c| s.ops >= c)
    }

    /// The disk as it is after the power comes back: durable names and durable bytes,
    /// plus for each file a `torn(i, n)`-byte prefix of its `n` unsynced bytes (from the
    /// first to the last that differs from the durable copy, or to the end of what was
    /// appended), which a real disk may have written back on its own.
    pub fn after_power_cut(&self, mut torn: impl FnMut(usize, usize) -> usize) -> SimFs {
        self.after_cut(|id, from, to| {
            let keep = torn(id, to - from).min(to - from);
            vec![(from, from + keep)]
        })
    }

    /// As [`SimFs::after_power_cut`], but each `sector`-byte block of the unsynced bytes
    /// survives or not on its own (chosen by `seed`): a disk writes back dirty pages in
    /// any order, so a write cut short can leave its end without its start, holes reading
    /// as zeros.
    pub fn after_power_cut_in_sectors(&self, seed: u64, sector: usize) -> SimFs {
        self.after_cut(|id, from, to| {
            let mut kept = Vec::new();
            let mut at = from;
            while at < to {
                let block = at / sector;
                let end = ((block + 1) * sector).min(to);
                let mut h = seed ^ (id as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                h ^= (block as u64).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                h ^= h >> 31;
                h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
                h ^= h >> 29;
                if h & 1 == 1 {
                    kept.push((at, end));
                }
                at = end;
            }
            kept
        })
    }

    /// The disk after a cut, keeping of each file's unsynced bytes `from..to` the ranges
    /// `survives(file, from, to)` returns.
    fn after_cut(
        &self,
        mut survives: impl FnMut(usize, usize, usize) -> Vec<(usize, usize)>,
    ) -> SimFs {
        let s = self.lock();
        let mut out = SimState::default();
        let mut ids = BTreeMap::new();
        for (name, id) in &s.durable_names {
            let parent_durable = name
                .parent()
                .is_none_or(|p| p.as_os_str().is_empty() || s.durable_dirs.contains(p));
            if !parent_durable {
                continue;
            }
            let Some(file) = s.files.get(*id) else {
                continue;
            };
            let new_id = *ids.entry(*id).or_insert_with(|| {
                let mut data = file.durable.clone();
                // The unsynced bytes run from the first to the last that differs from the
                // durable copy (an overwrite of zeros a writer wrote ahead), or to the end
                // of what was appended.
                let differs = |i: &usize| file.data.get(*i) != data.get(*i);
                let same = (0..file.data.len())
                    .find(differs)
                    .unwrap_or(file.data.len());
                let end = if file.data.len() > data.len() {
                    file.data.len()
                } else {
                    (same..file.data.len())
                        .rev()
                        .find(differs)
                        .map_or(same, |i| i + 1)
                };
                for (from, to) in survives(*id, same, end) {
                    if let Some(written) = file.data.get(from..to) {
                        if data.len() < to {
                            data.resize(to, 0);
                        }
                        if let Some(dst) = data.get_mut(from..to) {
                            dst.copy_from_slice(written);
                        }
                    }
                }
                out.files.push(SimFile {
                    data: data.clone(),
                    durable: data,
                });
                out.files.len() - 1
            });
            out.names.insert(name.clone(), new_id);
        }
        out.durable_names = out.names.clone();
        out.dirs = s.durable_dirs.clone();
        out.durable_dirs = s.durable_dirs.clone();
        SimFs {
            state: Arc::new(Mutex::new(out)),
        }
    }

    /// The current bytes of a file, for tests.
    pub fn contents(&self, path: &Path) -> Option<Vec<u8>> {
        let s = self.lock();
        s.names
            .get(path)
            .and_then(|id| s.files.get(*id))
            .map(|f| f.data.clone())
    }
}

impl SimState {
    /// Counts one mutating operation and decides whether it fails.
    fn step(&mut self) -> io::Result<()> {
        let op = self.ops;
        self.ops += 1;
        if self.cut_at.is_some_and(|c| op >= c) {
            return Err(sim_error("power cut"));
        }
        if self.fail_at == Some(op) {
            return Err(sim_error("I/O error"));
        }
        Ok(())
    }

    fn powered(&self) -> io::Result<()> {
        if self.cut_at.is_some_and(|c| self.ops > c) {
            return Err(sim_error("power cut"));
        }
        Ok(())
    }

    fn file(&mut self, id: usize) -> io::Result<&mut SimFile> {
        self.files
            .get_mut(id)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "simulated file is gone"))
    }
}

struct SimHandle {
    fs: SimFs,
    id: usize,
}

impl Fs for SimFs {
    fn open_read(&self, path: &Path) -> io::Result<Box<dyn FileHandle>> {
        let s = self.lock();
        s.powered()?;
        let id = *s
            .names
            .get(path)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, path.display().to_string()))?;
        Ok(Box::new(SimHandle {
            fs: self.clone(),
            id,
        }))
    }
    fn open_write(&self, path: &Path) -> io::Result<Box<dyn FileHandle>> {
        let mut s = self.lock();
        if let Some(&id) = s.names.get(path) {
            s.powered()?;
            return Ok(Box::new(SimHandle {
                fs: self.clone(),
                id,
            }));
        }
        s.step()?;
        let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
        if !parent.as_os_str().is_empty() && !s.dirs.contains(&parent) {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no directory {}", parent.display()),
            ));
        }
        s.files.push(SimFile::default());
        let id = s.files.len() - 1;
        s.names.insert(path.to_path_buf(), id);
        Ok(Box::new(SimHandle {
            fs: self.clone(),
            id,
        }))
    }
    fn exists(&self, path: &Path) -> bool {
        let s = self.lock();
        s.names.contains_key(path) || s.dirs.contains(path)
    }
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        let mut s = self.lock();
        if s.dirs.contains(path) {
            return s.powered();
        }
        s.step()?;
        let mut p = Some(path);
        while let Some(dir) = p {
            if dir.as_os_str().is_empty() {
                break;
            }
            s.dirs.insert(dir.to_path_buf());
            p = dir.parent();
        }
        Ok(())
    }
    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        let mut s = self.lock();
        s.step()?;
        let in_dir = |p: &Path| p.parent() == Some(path);
        let current: Vec<(PathBuf, usize)> = s
            .names
            .iter()
            .filter(|(n, _)| in_dir(n))
            .map(|(n, id)| (n.clone(), *id))
            .collect();
        s.durable_names.retain(|n, _| !in_dir(n));
        s.durable_names.extend(current);
        let subdirs: Vec<PathBuf> = s.dirs.iter().filter(|d| in_dir(d)).cloned().collect();
        s.durable_dirs.extend(subdirs);
        // A directory with no parent in the model (the ledger root's parent) is durable.
        if path.parent().is_none_or(|p| !s.dirs.contains(p)) {
            s.durable_dirs.insert(path.to_path_buf());
        }
        Ok(())
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let mut s = self.lock();
        s.step()?;
        s.names
            .remove(path)
            .map(|_| ())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, path.display().to_string()))
    }
}

impl FileHandle for SimHandle {
    fn len(&self) -> io::Result<u64> {
        let mut s = self.fs.lock();
        s.powered()?;
        Ok(s.file(self.id)?.data.len() as u64)
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let mut s = self.fs.lock();
        s.powered()?;
        let f = s.file(self.id)?;
        let start = usize::try_from(offset).map_err(io::Error::other)?;
        let src = f
            .data
            .get(start..start + buf.len())
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "read past the end"))?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn write_at(&self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        let mut s = self.fs.lock();
        s.step()?;
        let f = s.file(self.id)?;
        let start = usize::try_from(offset).map_err(io::Error::other)?;
        if f.data.len() < start + bytes.len() {
            f.data.resize(start + bytes.len(), 0);
        }
        if let Some(dst) = f.data.get_mut(start..start + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
        Ok(())
    }
    fn sync_data(&self) -> io::Result<()> {
        let mut s = self.fs.lock();
        s.step()?;
        let f = s.file(self.id)?;
        f.durable.clone_from(&f.data);
        Ok(())
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut s = self.fs.lock();
        s.step()?;
        let f = s.file(self.id)?;
        f.data
            .resize(usize::try_from(len).map_err(io::Error::other)?, 0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_synced_bytes_and_synced_names_survive() {
        let fs = SimFs::new();
        let dir = Path::new("/l");
        fs.create_dir_all(dir).unwrap();
        fs.sync_dir(Path::new("/")).unwrap();
        let a = fs.open_write(&dir.join("a")).unwrap();
        a.write_at(0, b"hello").unwrap();
        a.sync_data().unwrap();
        // The name is not durable yet: a cut loses the file.
        assert!(!fs.after_power_cut(|_, _| 0).exists(&dir.join("a")));
        fs.sync_dir(dir).unwrap();
        a.write_at(5, b" world").unwrap();
        let after = fs.after_power_cut(|_, _| 0);
        assert_eq!(after.contents(&dir.join("a")).unwrap(), b"hello");
        let torn = fs.after_power_cut(|_, n| n / 2);
        assert_eq!(torn.contents(&dir.join("a")).unwrap(), b"hello wo");
    }

    #[test]
    fn sectors_of_unsynced_bytes_survive_each_on_its_own() {
        let fs = SimFs::new();
        fs.create_dir_all(Path::new("/l")).unwrap();
        fs.sync_dir(Path::new("/")).unwrap();
        let f = fs.open_write(Path::new("/l/f")).unwrap();
        fs.sync_dir(Path::new("/l")).unwrap();
        f.write_at(0, &[7u8; 100]).unwrap();
        f.sync_data().unwrap();
        f.write_at(100, &[9u8; 2000]).unwrap();
        let mut end_without_start = false;
        for seed in 0..64 {
            let after = fs.after_power_cut_in_sectors(seed, 512);
            let bytes = after.contents(Path::new("/l/f")).unwrap();
            assert_eq!(bytes.get(..100), Some(&[7u8; 100][..]), "synced bytes lost");
            let blocks: Vec<bool> = (0..4)
                .map(|b| {
                    let block = bytes.get(100.max(b * 512)..bytes.len().min((b + 1) * 512));
                    let block = block.unwrap_or_default();
                    assert!(
                        block.iter().all(|&x| x == 9) || block.iter().all(|&x| x == 0),
                        "a sector kept in part"
                    );
                    block.first() == Some(&9)
                })
                .collect();
            end_without_start |= !blocks[0] && blocks[2..].iter().any(|&b| b);
        }
        assert!(
            end_without_start,
            "no cut kept a later sector without the first"
        );
    }

    #[test]
    fn a_cut_fails_every_later_operation_and_a_single_failure_does_not() {
        let fs = SimFs::new();
        fs.create_dir_all(Path::new("/l")).unwrap();
        let f = fs.open_write(Path::new("/l/f")).unwrap();
        fs.fail_once_after(0);
        assert!(f.write_at(0, b"x").is_err());
        f.write_at(0, b"y").unwrap();
        fs.cut_power_after(1);
        f.write_at(1, b"z").unwrap();
        assert!(f.sync_data().is_err());
        assert!(f.write_at(2, b"z").is_err());
        assert!(fs.is_cut());
    }
}
