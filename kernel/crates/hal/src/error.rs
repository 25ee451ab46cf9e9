//! The one error type every device trait returns, and its errno mapping.

use sis_abi::Errno;

/// Why a device operation failed.
///
/// Deliberately coarse: callers above the driver can only react to these
/// classes (retry, report, give up), and each maps to exactly one errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceError {
    /// The device has no room left (full disk, full transmit queue). → `ENOSPC`
    NoSpace,
    /// The device reported a failure while doing the operation. → `EIO`
    Io,
    /// Memory for the device's buffers could not be allocated. → `ENOMEM`
    NoMemory,
    /// The network link is down. → `ENETDOWN`
    LinkDown,
    /// The request itself was wrong: index out of range, wrong buffer size,
    /// frame larger than the MTU. → `EINVAL`
    Invalid,
}

impl DeviceError {
    /// The errno the shell reports for this error.
    pub const fn errno(self) -> Errno {
        match self {
            DeviceError::NoSpace => Errno::ENOSPC,
            DeviceError::Io => Errno::EIO,
            DeviceError::NoMemory => Errno::ENOMEM,
            DeviceError::LinkDown => Errno::ENETDOWN,
            DeviceError::Invalid => Errno::EINVAL,
        }
    }
}

impl From<DeviceError> for Errno {
    fn from(error: DeviceError) -> Errno {
        error.errno()
    }
}

impl core::fmt::Display for DeviceError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let errno = self.errno();
        write!(f, "{}: {}", errno.name(), errno.description())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_maps_to_its_documented_errno() {
        assert_eq!(Errno::from(DeviceError::NoSpace), Errno::ENOSPC);
        assert_eq!(Errno::from(DeviceError::Io), Errno::EIO);
        assert_eq!(Errno::from(DeviceError::NoMemory), Errno::ENOMEM);
        assert_eq!(Errno::from(DeviceError::LinkDown), Errno::ENETDOWN);
        assert_eq!(Errno::from(DeviceError::Invalid), Errno::EINVAL);
    }

    #[test]
    fn display_names_the_errno() {
        assert_eq!(DeviceError::Io.to_string(), "EIO: input/output error");
    }
}
