//! File descriptors: small non-negative numbers indexing a fixed-size table,
//! so a process can never hold more than MAX_FDS open files (EMFILE) and
//! any number outside the table or on an empty slot is EBADF.

use crate::limits::MAX_FDS;
use sis_abi::Errno;

/// A descriptor number that is inside the table (not necessarily open).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fd(u8);

impl Fd {
    /// The raw register value as an fd: negative (as i64) or past the
    /// table is EBADF.
    pub fn from_raw(raw: u64) -> Result<Fd, Errno> {
        if raw < MAX_FDS as u64 {
            Ok(Fd(raw as u8))
        } else {
            Err(Errno::EBADF)
        }
    }

    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// A process's open files: `T` is whatever the kernel keeps per open file.
#[derive(Debug)]
pub struct FdTable<T> {
    slots: [Option<T>; MAX_FDS],
}

impl<T> Default for FdTable<T> {
    fn default() -> Self {
        FdTable { slots: core::array::from_fn(|_| None) }
    }
}

impl<T> FdTable<T> {
    /// Puts `file` at the lowest free number, as POSIX open does.
    pub fn insert(&mut self, file: T) -> Result<Fd, Errno> {
        let index = self.slots.iter().position(Option::is_none).ok_or(Errno::EMFILE)?;
        self.slots[index] = Some(file);
        Ok(Fd(index as u8))
    }

    pub fn get(&self, fd: Fd) -> Result<&T, Errno> {
        self.slots[fd.index()].as_ref().ok_or(Errno::EBADF)
    }

    pub fn get_mut(&mut self, fd: Fd) -> Result<&mut T, Errno> {
        self.slots[fd.index()].as_mut().ok_or(Errno::EBADF)
    }

    pub fn is_open(&self, fd: Fd) -> bool {
        self.slots[fd.index()].is_some()
    }

    /// Removes and returns the file; closing a closed fd is EBADF.
    pub fn remove(&mut self, fd: Fd) -> Result<T, Errno> {
        self.slots[fd.index()].take().ok_or(Errno::EBADF)
    }

    /// How many are open (the open-fds metric).
    pub fn open_count(&self) -> usize {
        self.slots.iter().filter(|slot| slot.is_some()).count()
    }

    /// Empties the table at exit, handing each file to `release`.
    pub fn drain(&mut self, mut release: impl FnMut(T)) {
        for slot in &mut self.slots {
            if let Some(file) = slot.take() {
                release(file);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_numbers_inside_the_table_are_fds_and_others_ebadf() {
        assert_eq!(Fd::from_raw(0).map(Fd::index), Ok(0));
        assert_eq!(Fd::from_raw(MAX_FDS as u64 - 1).map(Fd::index), Ok(MAX_FDS - 1));
        assert_eq!(Fd::from_raw(MAX_FDS as u64), Err(Errno::EBADF));
        assert_eq!(Fd::from_raw(u64::MAX), Err(Errno::EBADF)); // -1
        assert_eq!(Fd::from_raw(1 << 32), Err(Errno::EBADF));
    }

    #[test]
    fn insert_takes_the_lowest_free_slot_until_emfile() {
        let mut table = FdTable::default();
        for expected in 0..MAX_FDS {
            assert_eq!(table.insert(expected).map(Fd::index), Ok(expected));
        }
        assert_eq!(table.insert(99), Err(Errno::EMFILE));
        assert_eq!(table.open_count(), MAX_FDS);
        let three = Fd::from_raw(3).unwrap();
        assert_eq!(table.remove(three), Ok(3));
        assert_eq!(table.insert(42), Ok(three));
        assert_eq!(table.get(three), Ok(&42));
    }

    #[test]
    fn closed_fds_are_ebadf_everywhere() {
        let mut table = FdTable::<u32>::default();
        let fd = table.insert(7).unwrap();
        assert_eq!(table.remove(fd), Ok(7));
        assert_eq!(table.remove(fd), Err(Errno::EBADF));
        assert_eq!(table.get(fd), Err(Errno::EBADF));
        assert_eq!(table.get_mut(fd), Err(Errno::EBADF));
        assert!(!table.is_open(fd));
    }

    #[test]
    fn drain_releases_every_open_file_once() {
        let mut table = FdTable::default();
        for value in 0..5 {
            table.insert(value).unwrap();
        }
        table.remove(Fd::from_raw(2).unwrap()).unwrap();
        let mut released = Vec::new();
        table.drain(|file| released.push(file));
        assert_eq!(released, vec![0, 1, 3, 4]);
        assert_eq!(table.open_count(), 0);
    }
}
