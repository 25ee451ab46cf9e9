//! The VFS's operations and their errnos, over the real RAM disk.

use sis_abi::Errno;
use sis_hal::RamBlockDevice;
use sis_vfs::{DirEntry, Limits, NodeKind, Vfs, WriteMode};

const BLOCK: usize = 64;

fn vfs() -> Vfs<RamBlockDevice> {
    Vfs::new(RamBlockDevice::new(BLOCK, 64).unwrap(), Limits::default()).unwrap()
}

fn names(vfs: &Vfs<RamBlockDevice>, path: &str) -> Vec<String> {
    vfs.list(path)
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect()
}

#[test]
fn a_new_file_system_is_an_empty_root() {
    let fs = vfs();
    assert_eq!(fs.list("/").unwrap(), []);
    assert!(fs.is_dir("/"));
    let stats = fs.stats();
    assert_eq!(
        (stats.files, stats.directories, stats.used_bytes),
        (0, 1, 0)
    );
    assert_eq!(stats.capacity_bytes, 64 * BLOCK as u64);
    fs.check().unwrap();
}

#[test]
fn write_then_read_round_trips_across_block_boundaries() {
    let mut fs = vfs();
    for length in [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 7] {
        let data: Vec<u8> = (0..length).map(|i| (i * 7 + length) as u8).collect();
        assert_eq!(fs.write("/f", &data, WriteMode::Truncate), Ok(length));
        assert_eq!(fs.read("/f").unwrap(), data, "length {length}");
        assert_eq!(fs.stat("/f").unwrap().blocks, length.div_ceil(BLOCK));
        fs.check().unwrap();
    }
}

#[test]
fn append_extends_and_truncate_replaces() {
    let mut fs = vfs();
    fs.write("/log", b"one\n", WriteMode::Append).unwrap();
    fs.write("/log", b"two\n", WriteMode::Append).unwrap();
    assert_eq!(fs.read("/log").unwrap(), b"one\ntwo\n");
    // Appends that cross block boundaries keep every byte.
    let mut expected = b"one\ntwo\n".to_vec();
    for round in 0..20u8 {
        let chunk = vec![round; 13];
        fs.write("/log", &chunk, WriteMode::Append).unwrap();
        expected.extend_from_slice(&chunk);
    }
    assert_eq!(fs.read("/log").unwrap(), expected);
    assert_eq!(fs.write("/log", b"", WriteMode::Append), Ok(0));
    assert_eq!(
        fs.read("/log").unwrap(),
        expected,
        "empty append changes nothing"
    );
    fs.write("/log", b"new", WriteMode::Truncate).unwrap();
    assert_eq!(fs.read("/log").unwrap(), b"new");
    assert_eq!(fs.stats().used_bytes, BLOCK as u64, "old blocks were freed");
    fs.check().unwrap();
}

#[test]
fn shrinking_a_file_does_not_expose_old_bytes() {
    let mut fs = vfs();
    fs.write("/f", &[b'x'; BLOCK], WriteMode::Truncate).unwrap();
    fs.write("/f", b"ab", WriteMode::Truncate).unwrap();
    fs.write("/f", b"cd", WriteMode::Append).unwrap();
    assert_eq!(fs.read("/f").unwrap(), b"abcd");
}

#[test]
fn create_is_touch() {
    let mut fs = vfs();
    fs.create("/a").unwrap();
    assert_eq!(fs.read("/a").unwrap(), b"");
    fs.write("/a", b"keep", WriteMode::Truncate).unwrap();
    fs.create("/a").unwrap();
    assert_eq!(fs.read("/a").unwrap(), b"keep", "touch keeps content");
    fs.mkdir("/d").unwrap();
    fs.create("/d").unwrap();
    assert!(fs.is_dir("/d"), "touching a directory leaves it one");
    fs.create("/").unwrap();
    assert_eq!(fs.stats().files, 1);
}

#[test]
fn directories_nest_and_list_sorted_with_kinds_and_sizes() {
    let mut fs = vfs();
    fs.mkdir("/etc").unwrap();
    fs.mkdir("/etc/sis").unwrap();
    fs.write("/etc/sis/motd", b"hello", WriteMode::Truncate)
        .unwrap();
    for name in ["zeta", "Alpha", "beta", "_x", "10", "9"] {
        fs.create(&format!("/etc/{name}")).unwrap();
    }
    assert_eq!(
        names(&fs, "/etc"),
        ["10", "9", "Alpha", "_x", "beta", "sis", "zeta"]
    );
    assert_eq!(
        fs.list("/etc/sis").unwrap(),
        [DirEntry {
            name: "motd".into(),
            kind: NodeKind::File,
            size: 5
        }]
    );
    let sis = fs
        .list("/etc")
        .unwrap()
        .into_iter()
        .find(|e| e.name == "sis")
        .unwrap();
    assert_eq!((sis.kind, sis.size), (NodeKind::Directory, 1));
    assert_eq!(
        fs.read("etc/./sis/../sis//motd").unwrap(),
        b"hello",
        "paths are normalized"
    );
    fs.check().unwrap();
}

#[test]
fn every_operation_reports_the_documented_errno() {
    let mut fs = vfs();
    fs.mkdir("/d").unwrap();
    fs.write("/d/f", b"x", WriteMode::Truncate).unwrap();
    fs.write("/file", b"x", WriteMode::Truncate).unwrap();

    assert_eq!(fs.read("/nope"), Err(Errno::ENOENT));
    assert_eq!(fs.read("/d"), Err(Errno::EISDIR));
    assert_eq!(fs.read("/file/x"), Err(Errno::ENOTDIR));
    assert_eq!(fs.read(""), Err(Errno::ENOENT));

    assert_eq!(
        fs.write("/d", b"x", WriteMode::Truncate),
        Err(Errno::EISDIR)
    );
    assert_eq!(fs.write("/", b"x", WriteMode::Append), Err(Errno::EISDIR));
    assert_eq!(
        fs.write("/missing/f", b"x", WriteMode::Truncate),
        Err(Errno::ENOENT)
    );
    assert_eq!(
        fs.write("/file/f", b"x", WriteMode::Truncate),
        Err(Errno::ENOTDIR)
    );
    assert_eq!(fs.create("/missing/f"), Err(Errno::ENOENT));
    assert_eq!(fs.create("/file/f"), Err(Errno::ENOTDIR));

    assert_eq!(fs.mkdir("/d"), Err(Errno::EEXIST));
    assert_eq!(fs.mkdir("/file"), Err(Errno::EEXIST));
    assert_eq!(fs.mkdir("/"), Err(Errno::EEXIST));
    assert_eq!(fs.mkdir("/a/b"), Err(Errno::ENOENT));
    assert_eq!(fs.mkdir("/file/b"), Err(Errno::ENOTDIR));

    assert_eq!(fs.rmdir("/d"), Err(Errno::ENOTEMPTY));
    assert_eq!(fs.rmdir("/file"), Err(Errno::ENOTDIR));
    assert_eq!(fs.rmdir("/nope"), Err(Errno::ENOENT));
    assert_eq!(fs.rmdir("/"), Err(Errno::EBUSY));

    assert_eq!(fs.remove("/d"), Err(Errno::EISDIR));
    assert_eq!(fs.remove("/"), Err(Errno::EISDIR));
    assert_eq!(fs.remove("/nope"), Err(Errno::ENOENT));
    assert_eq!(fs.remove("/file/x"), Err(Errno::ENOTDIR));

    assert_eq!(fs.list("/file"), Err(Errno::ENOTDIR));
    assert_eq!(fs.list("/nope"), Err(Errno::ENOENT));
    assert_eq!(fs.stat("/nope"), Err(Errno::ENOENT));
    assert!(!fs.is_dir("/file"));
    assert!(!fs.is_dir("/nope"));

    fs.remove("/d/f").unwrap();
    fs.rmdir("/d").unwrap();
    assert_eq!(fs.stat("/d"), Err(Errno::ENOENT));
    fs.check().unwrap();
}

#[test]
fn name_path_and_file_size_limits() {
    let limits = Limits {
        max_file_bytes: 100,
        ..Limits::default()
    };
    let mut fs = Vfs::new(RamBlockDevice::new(BLOCK, 64).unwrap(), limits).unwrap();
    let long_name = format!("/{}", "n".repeat(65));
    assert_eq!(fs.create(&long_name), Err(Errno::ENAMETOOLONG));
    assert_eq!(fs.mkdir(&long_name), Err(Errno::ENAMETOOLONG));
    let long_path = "/a".repeat(128);
    assert_eq!(fs.read(&long_path), Err(Errno::ENAMETOOLONG));
    assert_eq!(
        fs.write("/f", &[0; 101], WriteMode::Truncate),
        Err(Errno::EFBIG)
    );
    assert_eq!(
        fs.stat("/f"),
        Err(Errno::ENOENT),
        "a refused write creates nothing"
    );
    fs.write("/f", &[0; 100], WriteMode::Truncate).unwrap();
    assert_eq!(
        fs.write("/f", &[0; 1], WriteMode::Append),
        Err(Errno::EFBIG)
    );
    assert_eq!(fs.read("/f").unwrap().len(), 100);
    fs.check().unwrap();
}

#[test]
fn the_node_limit_is_enospc() {
    let limits = Limits {
        max_nodes: 3,
        ..Limits::default()
    };
    let mut fs = Vfs::new(RamBlockDevice::new(BLOCK, 8).unwrap(), limits).unwrap();
    fs.mkdir("/a").unwrap();
    fs.create("/b").unwrap();
    assert_eq!(fs.create("/c"), Err(Errno::ENOSPC));
    assert_eq!(fs.mkdir("/c"), Err(Errno::ENOSPC));
    assert_eq!(
        fs.write("/c", b"x", WriteMode::Truncate),
        Err(Errno::ENOSPC)
    );
    fs.write(
        "/b",
        b"existing files can still be written",
        WriteMode::Truncate,
    )
    .unwrap();
    fs.remove("/b").unwrap();
    fs.create("/c").unwrap();
    fs.check().unwrap();
}

#[test]
fn resolve_joins_the_callers_cwd() {
    let fs = vfs();
    assert_eq!(fs.resolve("/home/user", "../x/./y/").unwrap(), "/home/x/y");
    assert_eq!(fs.resolve("/", "/"), Ok("/".into()));
    assert_eq!(fs.resolve("no-slash", "x"), Err(Errno::EINVAL));
}

#[test]
fn stats_count_opens_operations_and_bytes() {
    let mut fs = vfs();
    fs.write("/a", &[1; 100], WriteMode::Truncate).unwrap();
    fs.write("/a", &[2; 10], WriteMode::Append).unwrap();
    fs.read("/a").unwrap();
    fs.create("/b").unwrap();
    fs.mkdir("/d").unwrap();
    let _ = fs.read("/nope");
    let _ = fs.read("/d");
    let stats = fs.stats();
    assert_eq!(
        stats.opens, 4,
        "two writes, one read, one create reached a file"
    );
    assert_eq!((stats.writes, stats.written_bytes), (2, 110));
    assert_eq!((stats.reads, stats.read_bytes), (1, 110));
    assert_eq!((stats.files, stats.directories), (2, 2));
    assert_eq!(stats.used_bytes, 2 * BLOCK as u64);
}

#[test]
fn new_rejects_unusable_configurations() {
    let device = || RamBlockDevice::new(BLOCK, 4).unwrap();
    assert!(Vfs::new(
        device(),
        Limits {
            max_nodes: 0,
            ..Limits::default()
        }
    )
    .is_err());
    assert!(Vfs::new(
        device(),
        Limits {
            max_name_bytes: 0,
            ..Limits::default()
        }
    )
    .is_err());
    assert!(Vfs::new(RamBlockDevice::new(BLOCK, 0).unwrap(), Limits::default()).is_ok());
}

#[test]
fn removed_node_slots_are_reused() {
    let mut fs = vfs();
    for round in 0..50 {
        let path = format!("/f{round}");
        fs.write(&path, b"data", WriteMode::Truncate).unwrap();
        fs.mkdir("/tmp").unwrap();
        fs.remove(&path).unwrap();
        fs.rmdir("/tmp").unwrap();
        fs.check().unwrap();
    }
    assert_eq!(fs.stats().files, 0);
    assert_eq!(fs.stats().used_bytes, 0);
}
