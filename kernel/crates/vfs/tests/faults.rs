//! Device faults under the VFS: every failed operation reports the device's
//! errno and leaves the file system exactly as it was.

use sis_abi::Errno;
use sis_hal::{BlockDevice, BlockOpKind, DeviceError, MockBlockDevice};
use sis_vfs::{Limits, Vfs, WriteMode};

const BLOCK: usize = 32;

fn vfs(blocks: u64) -> Vfs<MockBlockDevice> {
    Vfs::new(
        MockBlockDevice::new(BLOCK, blocks).unwrap(),
        Limits::default(),
    )
    .unwrap()
}

/// Everything observable about the file system, to compare before and after.
fn snapshot(fs: &mut Vfs<MockBlockDevice>) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in fs.list("/").unwrap() {
        let path = format!("/{}", entry.name);
        out.push((path.clone(), fs.read(&path).unwrap()));
    }
    out
}

#[test]
fn eio_mid_write_keeps_old_content_and_leaks_nothing() {
    let mut fs = vfs(64);
    let old: Vec<u8> = (0..100).collect();
    fs.write("/f", &old, WriteMode::Truncate).unwrap();
    let used_before = fs.stats().used_bytes;
    // The third block write of the next operation fails.
    fs.device_mut().fail_when({
        let mut writes = 0;
        move |op| {
            if op.kind == BlockOpKind::Write {
                writes += 1;
                (writes == 3).then_some(DeviceError::Io)
            } else {
                None
            }
        }
    });
    let writes_before = fs.device().stats().writes;
    assert_eq!(
        fs.write("/f", &[9; 200], WriteMode::Truncate),
        Err(Errno::EIO)
    );
    assert_eq!(
        fs.device().stats().writes - writes_before,
        3,
        "failed on the 3rd block"
    );
    assert_eq!(fs.device().stats().injected_failures, 1);
    fs.device_mut().clear_faults();
    assert_eq!(fs.read("/f").unwrap(), old);
    assert_eq!(fs.stats().used_bytes, used_before, "no leaked blocks");
    assert_eq!(fs.stats().writes, 1, "the failed write is not counted");
    fs.check().unwrap();
}

#[test]
fn eio_on_append_keeps_the_partial_tail() {
    let mut fs = vfs(64);
    fs.write("/log", b"0123456789", WriteMode::Truncate)
        .unwrap();
    fs.device_mut()
        .fail_next(1, Some(BlockOpKind::Write), DeviceError::Io);
    assert_eq!(
        fs.write("/log", &[b'x'; 100], WriteMode::Append),
        Err(Errno::EIO)
    );
    assert_eq!(fs.read("/log").unwrap(), b"0123456789");
    // A read fault while fetching the partial tail block fails the append too.
    fs.device_mut()
        .fail_next(1, Some(BlockOpKind::Read), DeviceError::Io);
    assert_eq!(fs.write("/log", b"abc", WriteMode::Append), Err(Errno::EIO));
    assert_eq!(fs.read("/log").unwrap(), b"0123456789");
    fs.write("/log", b"abc", WriteMode::Append).unwrap();
    assert_eq!(fs.read("/log").unwrap(), b"0123456789abc");
    fs.check().unwrap();
}

#[test]
fn a_failed_write_to_a_new_file_leaves_no_file() {
    let mut fs = vfs(64);
    fs.device_mut()
        .fail_next(1, Some(BlockOpKind::Write), DeviceError::Io);
    assert_eq!(
        fs.write("/new", b"data", WriteMode::Truncate),
        Err(Errno::EIO)
    );
    assert_eq!(fs.stat("/new"), Err(Errno::ENOENT));
    assert_eq!(fs.stats().files, 0);
    fs.check().unwrap();
}

#[test]
fn device_errors_keep_their_errno() {
    for (error, errno) in [
        (DeviceError::Io, Errno::EIO),
        (DeviceError::NoSpace, Errno::ENOSPC),
        (DeviceError::NoMemory, Errno::ENOMEM),
        (DeviceError::Invalid, Errno::EINVAL),
    ] {
        let mut fs = vfs(8);
        fs.write("/f", b"x", WriteMode::Truncate).unwrap();
        fs.device_mut().fail_next(1, None, error);
        assert_eq!(fs.write("/f", b"y", WriteMode::Truncate), Err(errno));
        fs.device_mut().fail_next(1, Some(BlockOpKind::Read), error);
        assert_eq!(fs.read("/f"), Err(errno));
        assert_eq!(fs.read("/f").unwrap(), b"x");
        fs.check().unwrap();
    }
}

#[test]
fn a_full_device_is_enospc_without_touching_it() {
    let mut fs = vfs(4);
    fs.write("/a", &[1; 3 * BLOCK], WriteMode::Truncate)
        .unwrap();
    let writes_before = fs.device().stats().writes;
    assert_eq!(
        fs.write("/b", &[2; BLOCK + 1], WriteMode::Truncate),
        Err(Errno::ENOSPC)
    );
    assert_eq!(
        fs.device().stats().writes,
        writes_before,
        "refused before any block write"
    );
    assert_eq!(fs.stat("/b"), Err(Errno::ENOENT), "nothing half-created");
    fs.write("/b", &[2; BLOCK], WriteMode::Truncate).unwrap();
    assert_eq!(fs.write("/b", &[3], WriteMode::Append), Err(Errno::ENOSPC));
    // Rewriting needs the new copy's blocks while the old ones still exist.
    assert_eq!(
        fs.write("/a", &[4; BLOCK], WriteMode::Truncate),
        Err(Errno::ENOSPC)
    );
    // Removing a file gives its space back.
    fs.remove("/b").unwrap();
    fs.write("/a", &[4; BLOCK], WriteMode::Truncate).unwrap();
    assert_eq!(fs.stats().used_bytes, BLOCK as u64);
    assert_eq!(fs.stats().capacity_bytes, 4 * BLOCK as u64);
    fs.check().unwrap();
}

#[test]
fn every_kth_write_failing_never_corrupts_anything() {
    let mut fs = vfs(128);
    fs.device_mut()
        .fail_every(5, Some(BlockOpKind::Write), DeviceError::Io);
    let mut model: Vec<(String, Vec<u8>)> = Vec::new();
    let mut failures = 0;
    for round in 0..300usize {
        let path = format!("/f{}", round % 7);
        let data = vec![round as u8; (round * 13) % 150];
        let mode = if round % 3 == 0 {
            WriteMode::Append
        } else {
            WriteMode::Truncate
        };
        match fs.write(&path, &data, mode) {
            Ok(_) => {
                let slot = match model.iter().position(|(p, _)| *p == path) {
                    Some(i) => i,
                    None => {
                        model.push((path.clone(), Vec::new()));
                        model.len() - 1
                    }
                };
                if mode == WriteMode::Truncate {
                    model[slot].1.clear();
                }
                model[slot].1.extend_from_slice(&data);
            }
            Err(Errno::EIO) => failures += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
        fs.check().unwrap();
    }
    assert!(failures > 20, "the faults were really hit ({failures})");
    fs.device_mut().clear_faults();
    model.sort();
    assert_eq!(snapshot(&mut fs), model);
}

#[test]
fn the_mock_really_sees_the_vfs_traffic() {
    let mut fs = vfs(16);
    fs.write("/f", &[0; 3 * BLOCK], WriteMode::Truncate)
        .unwrap();
    fs.read("/f").unwrap();
    let stats = fs.device().stats();
    assert_eq!((stats.writes, stats.reads), (3, 3));
    assert_eq!(fs.device().block_size(), BLOCK);
}
