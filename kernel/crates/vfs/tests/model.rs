//! Property test: random operation sequences, with injected disk faults,
//! give the same results as a plain `BTreeMap` model of the file system, and
//! the VFS's internal invariants (`Vfs::check`) hold after every step.

use std::collections::BTreeMap;

use proptest::prelude::*;
use sis_abi::Errno;
use sis_hal::{BlockOpKind, DeviceError, MockBlockDevice};
use sis_vfs::{DirEntry, Limits, Metadata, NodeKind, Vfs, WriteMode};

// Small enough that ENOSPC (blocks and nodes) and EFBIG happen often.
const BLOCK_SIZE: usize = 8;
const BLOCK_COUNT: usize = 16;
const MAX_FILE_BYTES: usize = 40;
const MAX_NODES: usize = 10;

#[derive(Clone, Debug)]
enum Op {
    Create(String),
    Write(String, Vec<u8>, WriteMode),
    Read(String),
    Mkdir(String),
    Rmdir(String),
    Remove(String),
    List(String),
    Stat(String),
    /// The next block operation of this kind fails with EIO.
    ArmFault(BlockOpKind),
}

/// Paths over a tiny alphabet so operations collide on the same names.
fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 1..=3)
        .prop_map(|parts| format!("/{}", parts.join("/")))
}

fn op() -> impl Strategy<Value = Op> {
    let mode = prop_oneof![Just(WriteMode::Truncate), Just(WriteMode::Append)];
    prop_oneof![
        2 => path().prop_map(Op::Create),
        6 => (path(), prop::collection::vec(any::<u8>(), 0..=48), mode)
            .prop_map(|(p, d, m)| Op::Write(p, d, m)),
        3 => path().prop_map(Op::Read),
        3 => path().prop_map(Op::Mkdir),
        1 => path().prop_map(Op::Rmdir),
        2 => path().prop_map(Op::Remove),
        1 => prop_oneof![Just("/".to_string()), path()].prop_map(Op::List),
        1 => path().prop_map(Op::Stat),
        1 => prop_oneof![Just(BlockOpKind::Read), Just(BlockOpKind::Write)].prop_map(Op::ArmFault),
    ]
}

#[derive(Clone, Debug, PartialEq)]
enum Entry {
    File(Vec<u8>),
    Dir,
}

/// What the file system should do, written as plainly as possible.
#[derive(Default)]
struct Model {
    entries: BTreeMap<String, Entry>,
    armed_fault: Option<BlockOpKind>,
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Done,
    Wrote(usize),
    Content(Vec<u8>),
    Listing(Vec<DirEntry>),
    Stat(Metadata),
}

fn blocks_for(bytes: usize) -> usize {
    bytes.div_ceil(BLOCK_SIZE)
}

impl Model {
    fn used_blocks(&self) -> usize {
        self.entries
            .values()
            .map(|e| match e {
                Entry::File(data) => blocks_for(data.len()),
                Entry::Dir => 0,
            })
            .sum()
    }

    fn is_node_limit_reached(&self) -> bool {
        1 + self.entries.len() >= MAX_NODES
    }

    /// ENOENT / ENOTDIR for the first missing or file ancestor.
    fn check_ancestors(&self, path: &str) -> Result<(), Errno> {
        let mut prefix = String::new();
        let parts: Vec<&str> = path[1..].split('/').collect();
        for part in &parts[..parts.len() - 1] {
            prefix.push('/');
            prefix.push_str(part);
            match self.entries.get(&prefix) {
                None => return Err(Errno::ENOENT),
                Some(Entry::File(_)) => return Err(Errno::ENOTDIR),
                Some(Entry::Dir) => {}
            }
        }
        Ok(())
    }

    fn lookup(&self, path: &str) -> Result<&Entry, Errno> {
        self.check_ancestors(path)?;
        self.entries.get(path).ok_or(Errno::ENOENT)
    }

    fn children(&self, dir: &str) -> Vec<(&str, &Entry)> {
        let prefix = if dir == "/" {
            "/".to_string()
        } else {
            format!("{dir}/")
        };
        let mut children: Vec<(&str, &Entry)> = self
            .entries
            .iter()
            .filter_map(|(p, e)| {
                p.strip_prefix(&prefix)
                    .filter(|rest| !rest.contains('/'))
                    .map(|n| (n, e))
            })
            .collect();
        children.sort_by(|a, b| a.0.cmp(b.0));
        children
    }

    /// Consumes the armed fault if this operation performs a `kind` block op.
    fn fault_hits(&mut self, kind: BlockOpKind, performs_op: bool) -> bool {
        if performs_op && self.armed_fault == Some(kind) {
            self.armed_fault = None;
            true
        } else {
            false
        }
    }

    fn apply(&mut self, op: &Op) -> Result<Outcome, Errno> {
        match op {
            Op::ArmFault(kind) => {
                self.armed_fault = Some(*kind);
                Ok(Outcome::Done)
            }
            Op::Create(path) => {
                self.check_ancestors(path)?;
                if !self.entries.contains_key(path) {
                    if self.is_node_limit_reached() {
                        return Err(Errno::ENOSPC);
                    }
                    self.entries.insert(path.clone(), Entry::File(Vec::new()));
                }
                Ok(Outcome::Done)
            }
            Op::Write(path, data, mode) => {
                self.check_ancestors(path)?;
                let old = match self.entries.get(path) {
                    Some(Entry::Dir) => return Err(Errno::EISDIR),
                    Some(Entry::File(old)) => Some(old.clone()),
                    None => None,
                };
                let old_len = old.as_ref().map_or(0, Vec::len);
                let new_len = match mode {
                    WriteMode::Truncate => data.len(),
                    WriteMode::Append => old_len + data.len(),
                };
                if new_len > MAX_FILE_BYTES {
                    return Err(Errno::EFBIG);
                }
                if old.is_none() && self.is_node_limit_reached() {
                    return Err(Errno::ENOSPC);
                }
                let kept = match mode {
                    WriteMode::Truncate => 0,
                    WriteMode::Append if data.is_empty() => blocks_for(old_len),
                    WriteMode::Append => old_len / BLOCK_SIZE,
                };
                let needed = blocks_for(new_len) - kept;
                if needed > BLOCK_COUNT - self.used_blocks() {
                    return Err(Errno::ENOSPC);
                }
                let reads_tail =
                    *mode == WriteMode::Append && !data.is_empty() && old_len % BLOCK_SIZE != 0;
                if self.fault_hits(BlockOpKind::Read, reads_tail)
                    || self.fault_hits(BlockOpKind::Write, needed > 0)
                {
                    return Err(Errno::EIO);
                }
                let mut content = match mode {
                    WriteMode::Truncate => Vec::new(),
                    WriteMode::Append => old.unwrap_or_default(),
                };
                content.extend_from_slice(data);
                self.entries.insert(path.clone(), Entry::File(content));
                Ok(Outcome::Wrote(data.len()))
            }
            Op::Read(path) => match self.lookup(path)? {
                Entry::Dir => Err(Errno::EISDIR),
                Entry::File(data) => {
                    let data = data.clone();
                    if self.fault_hits(BlockOpKind::Read, !data.is_empty()) {
                        return Err(Errno::EIO);
                    }
                    Ok(Outcome::Content(data))
                }
            },
            Op::Mkdir(path) => {
                self.check_ancestors(path)?;
                if self.entries.contains_key(path) {
                    return Err(Errno::EEXIST);
                }
                if self.is_node_limit_reached() {
                    return Err(Errno::ENOSPC);
                }
                self.entries.insert(path.clone(), Entry::Dir);
                Ok(Outcome::Done)
            }
            Op::Rmdir(path) => match self.lookup(path)? {
                Entry::File(_) => Err(Errno::ENOTDIR),
                Entry::Dir if !self.children(path).is_empty() => Err(Errno::ENOTEMPTY),
                Entry::Dir => {
                    self.entries.remove(path);
                    Ok(Outcome::Done)
                }
            },
            Op::Remove(path) => match self.lookup(path)? {
                Entry::Dir => Err(Errno::EISDIR),
                Entry::File(_) => {
                    self.entries.remove(path);
                    Ok(Outcome::Done)
                }
            },
            Op::List(path) => {
                if path != "/" {
                    if let Entry::File(_) = self.lookup(path)? {
                        return Err(Errno::ENOTDIR);
                    }
                }
                let listing = self
                    .children(path)
                    .into_iter()
                    .map(|(name, entry)| DirEntry {
                        name: name.to_string(),
                        kind: match entry {
                            Entry::File(_) => NodeKind::File,
                            Entry::Dir => NodeKind::Directory,
                        },
                        size: match entry {
                            Entry::File(data) => data.len(),
                            Entry::Dir => {
                                let child = format!("{}/{name}", path.trim_end_matches('/'));
                                self.children(&child).len()
                            }
                        },
                    })
                    .collect();
                Ok(Outcome::Listing(listing))
            }
            Op::Stat(path) => {
                let metadata = match self.lookup(path)? {
                    Entry::File(data) => Metadata {
                        kind: NodeKind::File,
                        size: data.len(),
                        blocks: blocks_for(data.len()),
                    },
                    Entry::Dir => Metadata {
                        kind: NodeKind::Directory,
                        size: self.children(path).len(),
                        blocks: 0,
                    },
                };
                Ok(Outcome::Stat(metadata))
            }
        }
    }
}

fn run(fs: &mut Vfs<MockBlockDevice>, op: &Op) -> Result<Outcome, Errno> {
    match op {
        Op::ArmFault(kind) => {
            fs.device_mut().fail_next(1, Some(*kind), DeviceError::Io);
            Ok(Outcome::Done)
        }
        Op::Create(path) => fs.create(path).map(|()| Outcome::Done),
        Op::Write(path, data, mode) => fs.write(path, data, *mode).map(Outcome::Wrote),
        Op::Read(path) => fs.read(path).map(Outcome::Content),
        Op::Mkdir(path) => fs.mkdir(path).map(|()| Outcome::Done),
        Op::Rmdir(path) => fs.rmdir(path).map(|()| Outcome::Done),
        Op::Remove(path) => fs.remove(path).map(|()| Outcome::Done),
        Op::List(path) => fs.list(path).map(Outcome::Listing),
        Op::Stat(path) => fs.stat(path).map(Outcome::Stat),
    }
}

#[test]
fn random_operations_match_the_model() {
    let config = ProptestConfig {
        cases: 1000,
        // Integration tests have no lib.rs beside them to anchor proptest's
        // regression files; a failure prints the minimal input instead.
        failure_persistence: None,
        // A fixed seed: the same 1000 sequences every run, so the coverage
        // check below is a fact about the test, not a coin toss. (With a
        // 24-block disk a random seed once reached ENOSPC only 6 times; the
        // disk is now 16 blocks, and every seed tried reaches it often.)
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5153_5646),
        ..ProptestConfig::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    // Which errors the runs produced: the test is only worth something if
    // the faults and limits were really reached.
    let seen = std::cell::RefCell::new(BTreeMap::<&'static str, usize>::new());
    let result = runner.run(&prop::collection::vec(op(), 1..80), |ops| {
        let limits = Limits {
            max_file_bytes: MAX_FILE_BYTES,
            max_nodes: MAX_NODES,
            ..Limits::default()
        };
        let device = MockBlockDevice::new(BLOCK_SIZE, BLOCK_COUNT as u64).unwrap();
        let mut fs = Vfs::new(device, limits).unwrap();
        let mut model = Model::default();
        for (step, op) in ops.iter().enumerate() {
            let expected = model.apply(op);
            let actual = run(&mut fs, op);
            prop_assert_eq!(&actual, &expected, "step {} {:?}", step, op);
            if let Err(errno) = actual {
                *seen.borrow_mut().entry(errno.name()).or_default() += 1;
            }
            if let Err(problem) = fs.check() {
                prop_assert!(false, "step {} {:?}: {}", step, op, problem);
            }
            let stats = fs.stats();
            prop_assert_eq!(stats.used_bytes as usize, model.used_blocks() * BLOCK_SIZE);
            let files = model
                .entries
                .values()
                .filter(|e| matches!(e, Entry::File(_)))
                .count();
            prop_assert_eq!(stats.files as usize, files);
            prop_assert_eq!(stats.directories as usize, 1 + model.entries.len() - files);
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    let seen = seen.into_inner();
    for errno in [
        "EIO",
        "ENOSPC",
        "EFBIG",
        "ENOENT",
        "ENOTDIR",
        "EISDIR",
        "EEXIST",
        "ENOTEMPTY",
    ] {
        assert!(
            seen.get(errno).copied().unwrap_or(0) >= 10,
            "{errno} barely reached: {seen:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any path string, however odd (NUL, `..` runs, unicode, very long),
    /// gets an answer, never a panic, and leaves the file system consistent.
    #[test]
    fn arbitrary_paths_never_panic(
        paths in prop::collection::vec(
            prop_oneof![
                "[/.a-c\u{0}é]{0,12}",
                "(/|\\.\\./|[a-z]{1,70}/){0,40}",
                any::<String>(),
            ],
            1..12,
        ),
        cwd in "(/[a-c.]{0,3}){0,4}|[a-c]{0,3}",
    ) {
        let device = MockBlockDevice::new(BLOCK_SIZE, BLOCK_COUNT as u64).unwrap();
        let mut fs = Vfs::new(device, Limits::default()).unwrap();
        for path in &paths {
            if let Ok(resolved) = fs.resolve(&cwd, path) {
                prop_assert!(resolved.starts_with('/'));
                prop_assert!(resolved.len() <= fs.limits().max_path_bytes);
                prop_assert!(!resolved.contains("//") && !resolved.contains("/./"));
                prop_assert!(resolved == "/" || !resolved.ends_with('/'));
            }
            let _ = fs.mkdir(path);
            let _ = fs.write(path, path.as_bytes(), WriteMode::Append);
            let _ = fs.create(path);
            let _ = fs.read(path);
            let _ = fs.list(path);
            let _ = fs.stat(path);
            prop_assert!(fs.check().is_ok());
        }
        for path in paths.iter().rev() {
            let _ = fs.remove(path);
            let _ = fs.rmdir(path);
            prop_assert!(fs.check().is_ok());
        }
    }
}
