//! Process ids: 1..=MAX_PID. Anything else is ESRCH without a look-up; a
//! number in range that names no child is ESRCH from the process table.

use crate::limits::MAX_PID;
use sis_abi::Errno;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pid(u32);

impl Pid {
    pub fn from_raw(raw: u64) -> Result<Pid, Errno> {
        if (1..=MAX_PID).contains(&raw) {
            Ok(Pid(raw as u32))
        } else {
            Err(Errno::ESRCH)
        }
    }

    pub const fn get(self) -> u32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pids() {
        assert_eq!(Pid::from_raw(1).map(Pid::get), Ok(1));
        assert_eq!(Pid::from_raw(MAX_PID).map(Pid::get), Ok(MAX_PID as u32));
        assert_eq!(Pid::from_raw(0), Err(Errno::ESRCH));
        assert_eq!(Pid::from_raw(MAX_PID + 1), Err(Errno::ESRCH));
        assert_eq!(Pid::from_raw(u64::MAX), Err(Errno::ESRCH));
    }
}
