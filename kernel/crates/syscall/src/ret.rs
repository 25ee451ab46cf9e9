//! How a syscall's result travels back in the return register: a value
//! below 2^63 is success, `-errno` (two's complement) is failure, as on Linux.

use sis_abi::Errno;

/// The return register's value for a result. Success values are below 2^63
/// by construction (lengths, pids, addresses under USER_TOP, nanoseconds).
pub fn encode_return(result: Result<u64, Errno>) -> u64 {
    match result {
        Ok(value) => value,
        Err(errno) => (errno.code() as u64).wrapping_neg(),
    }
}

/// The user side's reading of the return register: the errno of a value in
/// the top 4095 (Linux's window), success otherwise. A negative value that is
/// not one of our errnos reads as EINVAL, never as success.
pub fn decode_return(raw: u64) -> Result<u64, Errno> {
    if raw > u64::MAX - 4095 {
        Err(Errno::from_code(raw.wrapping_neg()).unwrap_or(Errno::EINVAL))
    } else {
        Ok(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_and_every_errno_round_trip() {
        for value in [0, 1, 4096, (1 << 38) - 1, (1 << 62)] {
            assert_eq!(decode_return(encode_return(Ok(value))), Ok(value));
        }
        for errno in Errno::ALL {
            assert_eq!(decode_return(encode_return(Err(errno))), Err(errno));
        }
    }

    #[test]
    fn the_errno_window_boundary() {
        assert_eq!(encode_return(Err(Errno::EFAULT)), (-14i64) as u64);
        assert_eq!(decode_return(u64::MAX - 4095), Ok(u64::MAX - 4095));
        // -4095 is in the window but not an errno of ours.
        assert_eq!(decode_return(u64::MAX - 4094), Err(Errno::EINVAL));
    }
}
