//! Paths and program names come as (pointer, length): the length is checked
//! before anything is copied, the bytes after.

use crate::limits::PATH_MAX;
use sis_abi::Errno;

/// Longest program name `spawn` takes.
pub const NAME_MAX: u64 = 32;

/// A path length: empty is ENOENT (as POSIX's empty path), over PATH_MAX
/// ENAMETOOLONG.
pub fn check_path_len(len: u64) -> Result<(), Errno> {
    check_len(len, PATH_MAX)
}

/// A program name length for spawn, like a path with NAME_MAX.
pub fn check_name_len(len: u64) -> Result<(), Errno> {
    check_len(len, NAME_MAX)
}

fn check_len(len: u64, max: u64) -> Result<(), Errno> {
    match len {
        0 => Err(Errno::ENOENT),
        n if n > max => Err(Errno::ENAMETOOLONG),
        _ => Ok(()),
    }
}

/// The copied bytes as a path: UTF-8 without NUL, else EINVAL.
pub fn check_path_bytes(bytes: &[u8]) -> Result<&str, Errno> {
    if bytes.contains(&0) {
        return Err(Errno::EINVAL);
    }
    core::str::from_utf8(bytes).map_err(|_| Errno::EINVAL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_lengths() {
        assert_eq!(check_path_len(1), Ok(()));
        assert_eq!(check_path_len(PATH_MAX), Ok(()));
        assert_eq!(check_path_len(0), Err(Errno::ENOENT));
        assert_eq!(check_path_len(PATH_MAX + 1), Err(Errno::ENAMETOOLONG));
        assert_eq!(check_path_len(u64::MAX), Err(Errno::ENAMETOOLONG));
    }

    #[test]
    fn name_lengths() {
        assert_eq!(check_name_len(NAME_MAX), Ok(()));
        assert_eq!(check_name_len(NAME_MAX + 1), Err(Errno::ENAMETOOLONG));
        assert_eq!(check_name_len(0), Err(Errno::ENOENT));
    }

    #[test]
    fn path_bytes() {
        assert_eq!(check_path_bytes(b"/tmp/a"), Ok("/tmp/a"));
        assert_eq!(check_path_bytes(b"a\0b"), Err(Errno::EINVAL));
        assert_eq!(check_path_bytes(&[0xff, 0xfe]), Err(Errno::EINVAL));
        assert_eq!(check_path_bytes("é".as_bytes()), Ok("é"));
    }
}
