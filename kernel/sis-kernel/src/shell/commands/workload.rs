//! Workload commands that exercise injection points on purpose: alloc, net,
//! cksum.

use core::fmt::Write;

use sis_abi::Errno;

use super::{fail, parse_number, CommandError, CommandResult, Invocation};
use crate::{fs, heap, net};

/// Largest single `alloc`: a quarter of the heap, so a typo cannot starve
/// the kernel.
fn max_alloc_bytes() -> usize {
    heap::stats().size_bytes / 4
}

pub fn alloc(invocation: &mut Invocation<'_>) -> CommandResult {
    let [bytes] = invocation.args else { return Err(CommandError::Usage) };
    let bytes: usize = parse_number(bytes)?;
    if bytes == 0 || bytes > max_alloc_bytes() {
        return fail(Errno::EINVAL, alloc::format!("size must be 1-{} bytes", max_alloc_bytes()));
    }
    #[cfg(feature = "chaos")]
    crate::chaos::check(sis_chaos::Point::PanicPoint);
    let mut block: alloc::vec::Vec<u8> = alloc::vec::Vec::new();
    heap::fallible(|| block.try_reserve_exact(bytes))
        .map_err(|_| CommandError::Errno(Errno::ENOMEM, alloc::format!("cannot allocate {bytes} bytes")))?;
    // Touch the memory so the allocation is real, then free it.
    block.resize(bytes, 0xa5);
    let _ = writeln!(invocation.out, "allocated {} bytes", block.len());
    Ok(())
}

pub fn net(invocation: &mut Invocation<'_>) -> CommandResult {
    match invocation.args {
        [what, bytes] if what == "send" => {
            let bytes: usize = parse_number(bytes)?;
            if bytes == 0 || bytes > net::mtu() {
                return fail(Errno::EINVAL, alloc::format!("frame size must be 1-{} bytes", net::mtu()));
            }
            let frame = alloc::vec![0x5a_u8; bytes];
            net::send(&frame).map_err(|errno| CommandError::Errno(errno, alloc::string::String::from("send failed")))?;
            let _ = writeln!(invocation.out, "sent {bytes} bytes");
            Ok(())
        }
        [what] if what == "stats" => {
            let stats = net::stats();
            let _ = writeln!(invocation.out, "device null mtu {}", net::mtu());
            let _ = writeln!(invocation.out, "tx_packets {}", stats.sent_frames);
            let _ = writeln!(invocation.out, "tx_bytes {}", stats.sent_bytes);
            let _ = writeln!(invocation.out, "rx_packets {}", stats.received_frames);
            Ok(())
        }
        _ => Err(CommandError::Usage),
    }
}

pub fn cksum(invocation: &mut Invocation<'_>) -> CommandResult {
    let [path] = invocation.args else { return Err(CommandError::Usage) };
    let absolute = fs::with(|vfs| vfs.resolve(&invocation.shell.cwd, path))
        .map_err(|errno| CommandError::Errno(errno, alloc::format!("{path}: {}", errno.description())))?;
    let data = fs::with(|vfs| vfs.read(&absolute))
        .map_err(|errno| CommandError::Errno(errno, alloc::format!("{path}: {}", errno.description())))?;
    let _ = writeln!(invocation.out, "{:08x} {} {}", crc32fast::hash(&data), data.len(), path);
    Ok(())
}
