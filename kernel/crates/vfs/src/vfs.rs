//! The RAM file system over a block device: the node table, the block
//! allocator and the operations the shell calls.

use alloc::string::String;
use alloc::vec::Vec;

use sis_abi::Errno;
use sis_hal::BlockDevice;

use crate::path::{self, components};

/// Bounds on names, paths, files and nodes. Total data is bounded by the
/// device: a write that needs more blocks than are free is `ENOSPC`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest path, given or resolved, in bytes (`ENAMETOOLONG`).
    pub max_path_bytes: usize,
    /// Longest path component, in bytes (`ENAMETOOLONG`).
    pub max_name_bytes: usize,
    /// Largest file, in bytes (`EFBIG`).
    pub max_file_bytes: usize,
    /// Most files and directories, the root included (`ENOSPC`).
    pub max_nodes: usize,
}

impl Default for Limits {
    /// 255-byte paths (POSIX `PATH_MAX`-like), 64-byte names, 1 MiB files,
    /// 1024 nodes.
    fn default() -> Self {
        Limits {
            max_path_bytes: 255,
            max_name_bytes: 64,
            max_file_bytes: 1 << 20,
            max_nodes: 1024,
        }
    }
}

/// Whether a node is a file or a directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    File,
    Directory,
}

/// One entry of [`Vfs::list`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub kind: NodeKind,
    /// Bytes for a file; number of entries for a directory.
    pub size: usize,
}

/// What [`Vfs::stat`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metadata {
    pub kind: NodeKind,
    /// Bytes for a file; number of entries for a directory.
    pub size: usize,
    /// Device blocks holding the file's data (0 for a directory).
    pub blocks: usize,
}

/// How [`Vfs::write`] treats existing content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteMode {
    /// Replace the content (`>`).
    Truncate,
    /// Add to the end (`>>`).
    Append,
}

/// Counters for the metrics endpoint. Operation counters count successes;
/// `opens` counts every read, write or create that reached a file (existing
/// or about to be created), whether or not it then succeeded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VfsStats {
    pub opens: u64,
    pub reads: u64,
    pub writes: u64,
    pub read_bytes: u64,
    pub written_bytes: u64,
    pub files: u64,
    /// Directories, the root included.
    pub directories: u64,
    /// Bytes of allocated blocks (whole blocks, like `df`).
    pub used_bytes: u64,
    /// Bytes of all the device's blocks.
    pub capacity_bytes: u64,
}

type NodeId = usize;

const ROOT: NodeId = 0;

enum Node {
    File {
        size: usize,
        /// Device block indices, in file order; `ceil(size / block_size)` of them.
        blocks: Vec<u64>,
    },
    Directory {
        /// Sorted by name (byte order), names unique.
        entries: Vec<(String, NodeId)>,
    },
}

impl Node {
    fn kind(&self) -> NodeKind {
        match self {
            Node::File { .. } => NodeKind::File,
            Node::Directory { .. } => NodeKind::Directory,
        }
    }

    fn size(&self) -> usize {
        match self {
            Node::File { size, .. } => *size,
            Node::Directory { entries } => entries.len(),
        }
    }
}

/// The file system. `D` is the block device holding file data.
pub struct Vfs<D: BlockDevice> {
    device: D,
    limits: Limits,
    block_size: usize,
    block_count: usize,
    /// One bit per device block: set when a file owns it.
    used_bitmap: Vec<u64>,
    free_blocks: usize,
    /// Slot `ROOT` is the root directory; `None` slots are free.
    nodes: Vec<Option<Node>>,
    live_nodes: usize,
    stats: VfsStats,
}

fn no_memory<T>(_: T) -> Errno {
    Errno::ENOMEM
}

fn try_string(text: &str) -> Result<String, Errno> {
    let mut copy = String::new();
    copy.try_reserve_exact(text.len()).map_err(no_memory)?;
    copy.push_str(text);
    Ok(copy)
}

/// Where a path's last component lives.
struct Location<'a> {
    parent: NodeId,
    name: &'a str,
    /// The entry's node, if the name exists in `parent`.
    existing: Option<NodeId>,
    /// Index in the parent's entries: of the entry, or where it would go.
    slot: usize,
}

impl<D: BlockDevice> Vfs<D> {
    /// An empty file system (just `/`) over `device`; the device's current
    /// content is ignored.
    ///
    /// Errors: `EINVAL` for a block size of 0, a limit of 0, or a block count
    /// that does not fit in memory addressing; `ENOMEM` if the allocator's
    /// bitmap or the root cannot be allocated.
    pub fn new(device: D, limits: Limits) -> Result<Self, Errno> {
        let block_size = device.block_size();
        let block_count = usize::try_from(device.block_count()).map_err(|_| Errno::EINVAL)?;
        if block_size == 0
            || limits.max_path_bytes == 0
            || limits.max_name_bytes == 0
            || limits.max_nodes == 0
        {
            return Err(Errno::EINVAL);
        }
        let mut used_bitmap = Vec::new();
        let words = block_count.div_ceil(64);
        used_bitmap.try_reserve_exact(words).map_err(no_memory)?;
        used_bitmap.resize(words, 0);
        let mut nodes = Vec::new();
        nodes.try_reserve(1).map_err(no_memory)?;
        nodes.push(Some(Node::Directory {
            entries: Vec::new(),
        }));
        let capacity_bytes = (block_count as u64).saturating_mul(block_size as u64);
        Ok(Vfs {
            device,
            limits,
            block_size,
            block_count,
            used_bitmap,
            free_blocks: block_count,
            nodes,
            live_nodes: 1,
            stats: VfsStats {
                directories: 1,
                capacity_bytes,
                ..VfsStats::default()
            },
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn device(&self) -> &D {
        &self.device
    }

    /// The device, for tests that inject faults between operations.
    pub fn device_mut(&mut self) -> &mut D {
        &mut self.device
    }

    /// The counters; see [`VfsStats`].
    pub fn stats(&self) -> VfsStats {
        let used_blocks = self.block_count - self.free_blocks;
        VfsStats {
            used_bytes: (used_blocks as u64).saturating_mul(self.block_size as u64),
            ..self.stats
        }
    }

    /// Joins `path` to `cwd` and normalizes it with this file system's
    /// limits; see [`crate::resolve`]. Does not check that the path exists.
    pub fn resolve(&self, cwd: &str, path: &str) -> Result<String, Errno> {
        path::resolve(&self.limits, cwd, path)
    }

    fn node(&self, id: NodeId) -> &Node {
        // Ids come only from directory entries and ROOT, which always name
        // live slots (checked by `check`).
        self.nodes[id]
            .as_ref()
            .expect("directory entry names a live node")
    }

    fn node_mut(&mut self, id: NodeId) -> &mut Node {
        self.nodes[id]
            .as_mut()
            .expect("directory entry names a live node")
    }

    /// Looks `name` up in directory `dir`: `Ok(index)` if present,
    /// `Err(insertion index)` if not.
    fn find_entry(&self, dir: NodeId, name: &str) -> Result<Result<usize, usize>, Errno> {
        match self.node(dir) {
            Node::Directory { entries } => {
                Ok(entries.binary_search_by(|(entry, _)| entry.as_str().cmp(name)))
            }
            Node::File { .. } => Err(Errno::ENOTDIR),
        }
    }

    /// Walks a resolved path to its node. Errors: `ENOENT`, `ENOTDIR`.
    fn lookup(&self, resolved: &str) -> Result<NodeId, Errno> {
        let mut current = ROOT;
        for name in components(resolved) {
            let Node::Directory { entries } = self.node(current) else {
                return Err(Errno::ENOTDIR);
            };
            let index = entries
                .binary_search_by(|(entry, _)| entry.as_str().cmp(name))
                .map_err(|_| Errno::ENOENT)?;
            current = entries[index].1;
        }
        Ok(current)
    }

    /// Finds the parent directory of a resolved path other than `/`.
    /// Errors: `ENOENT` if an ancestor is missing, `ENOTDIR` if one is a file.
    fn locate<'a>(&self, resolved: &'a str) -> Result<Location<'a>, Errno> {
        let split = resolved.rfind('/').unwrap_or(0);
        let (parent_path, name) = (&resolved[..split], &resolved[split + 1..]);
        let parent = self.lookup(if parent_path.is_empty() {
            "/"
        } else {
            parent_path
        })?;
        let (existing, slot) = match self.find_entry(parent, name)? {
            Ok(index) => match self.node(parent) {
                Node::Directory { entries } => (Some(entries[index].1), index),
                Node::File { .. } => return Err(Errno::ENOTDIR),
            },
            Err(index) => (None, index),
        };
        Ok(Location {
            parent,
            name,
            existing,
            slot,
        })
    }

    /// Reserves what linking a new node named `name` needs, so the final
    /// `link` cannot fail. Errors: `ENOSPC` at the node limit, `ENOMEM`.
    fn prepare_link(&mut self, location: &Location<'_>) -> Result<String, Errno> {
        if self.live_nodes >= self.limits.max_nodes {
            return Err(Errno::ENOSPC);
        }
        let name = try_string(location.name)?;
        if !self.nodes.iter().any(Option::is_none) {
            self.nodes.try_reserve(1).map_err(no_memory)?;
        }
        match self.node_mut(location.parent) {
            Node::Directory { entries } => entries.try_reserve(1).map_err(no_memory)?,
            Node::File { .. } => return Err(Errno::ENOTDIR),
        }
        Ok(name)
    }

    /// Adds `node` under the prepared name; infallible after `prepare_link`.
    fn link(&mut self, location: &Location<'_>, name: String, node: Node) {
        match node.kind() {
            NodeKind::File => self.stats.files += 1,
            NodeKind::Directory => self.stats.directories += 1,
        }
        let id = match self.nodes.iter().position(Option::is_none) {
            Some(free) => {
                self.nodes[free] = Some(node);
                free
            }
            None => {
                self.nodes.push(Some(node));
                self.nodes.len() - 1
            }
        };
        self.live_nodes += 1;
        if let Node::Directory { entries } = self.node_mut(location.parent) {
            entries.insert(location.slot, (name, id));
        }
    }

    /// Removes entry `slot` of `parent` and frees its node and blocks.
    fn unlink(&mut self, parent: NodeId, slot: usize) {
        let Node::Directory { entries } = self.node_mut(parent) else {
            return;
        };
        let (_, id) = entries.remove(slot);
        if let Some(node) = self.nodes[id].take() {
            match node {
                Node::File { blocks, .. } => {
                    self.stats.files -= 1;
                    self.free(&blocks);
                }
                Node::Directory { .. } => self.stats.directories -= 1,
            }
        }
        self.live_nodes -= 1;
        // Keep the table from only ever growing.
        while self.nodes.len() > 1 && self.nodes.last().is_some_and(Option::is_none) {
            self.nodes.pop();
        }
    }

    /// Takes a free block. The caller checked `free_blocks` first.
    fn allocate(&mut self) -> Option<u64> {
        let (word_index, word) = self
            .used_bitmap
            .iter_mut()
            .enumerate()
            .find(|(_, word)| **word != u64::MAX)?;
        let bit = word.trailing_ones() as usize;
        let block = word_index * 64 + bit;
        if block >= self.block_count {
            return None;
        }
        *word |= 1 << bit;
        self.free_blocks -= 1;
        Some(block as u64)
    }

    fn free(&mut self, blocks: &[u64]) {
        for &block in blocks {
            let block = block as usize;
            self.used_bitmap[block / 64] &= !(1 << (block % 64));
            self.free_blocks += 1;
        }
    }

    /// The blocks of file `id` (none if `id` is `None` or a directory).
    fn file_blocks(&self, id: Option<NodeId>) -> &[u64] {
        match id.map(|id| self.node(id)) {
            Some(Node::File { blocks, .. }) => blocks,
            _ => &[],
        }
    }

    fn scratch_block(&self) -> Result<Vec<u8>, Errno> {
        let mut scratch = Vec::new();
        scratch
            .try_reserve_exact(self.block_size)
            .map_err(no_memory)?;
        scratch.resize(self.block_size, 0);
        Ok(scratch)
    }

    /// Creates an empty file, or does nothing if `path` exists (file or
    /// directory), like `touch`.
    ///
    /// Errors: those of [`Vfs::resolve`]; `ENOENT` if the parent is missing;
    /// `ENOTDIR` if an ancestor is a file; `ENOSPC` at the node limit;
    /// `ENOMEM`.
    pub fn create(&mut self, path: &str) -> Result<(), Errno> {
        let resolved = self.resolve("/", path)?;
        if resolved == "/" {
            return Ok(());
        }
        let location = self.locate(&resolved)?;
        if let Some(id) = location.existing {
            if self.node(id).kind() == NodeKind::File {
                self.stats.opens += 1;
            }
            return Ok(());
        }
        self.stats.opens += 1;
        let name = self.prepare_link(&location)?;
        let node = Node::File {
            size: 0,
            blocks: Vec::new(),
        };
        self.link(&location, name, node);
        Ok(())
    }

    /// Writes `data` to the file at `path`, creating it if missing; returns
    /// `data.len()`. All or nothing: on any error the file system is as it
    /// was (a new file is not left behind either).
    ///
    /// Errors: those of [`Vfs::resolve`]; `ENOENT` if the parent is missing;
    /// `ENOTDIR` if an ancestor is a file; `EISDIR` if `path` is a
    /// directory; `EFBIG` if the file would exceed `max_file_bytes`;
    /// `ENOSPC` at the node limit or if the device lacks free blocks; the
    /// device's errno (`EIO`, …) if a block read or write failed; `ENOMEM`.
    pub fn write(&mut self, path: &str, data: &[u8], mode: WriteMode) -> Result<usize, Errno> {
        let resolved = self.resolve("/", path)?;
        if resolved == "/" {
            return Err(Errno::EISDIR);
        }
        let location = self.locate(&resolved)?;
        let (old_size, old_block_count) = match location.existing {
            None => (0, 0),
            Some(id) => match self.node(id) {
                Node::File { size, blocks } => (*size, blocks.len()),
                Node::Directory { .. } => return Err(Errno::EISDIR),
            },
        };
        self.stats.opens += 1;
        let new_size = match mode {
            WriteMode::Truncate => data.len(),
            WriteMode::Append => old_size.checked_add(data.len()).ok_or(Errno::EFBIG)?,
        };
        if new_size > self.limits.max_file_bytes {
            return Err(Errno::EFBIG);
        }
        // Blocks kept as they are: none when truncating; the full blocks when
        // appending (a partial last block is rewritten into a new block).
        let kept_blocks = match mode {
            WriteMode::Truncate => 0,
            WriteMode::Append if data.is_empty() => old_block_count,
            WriteMode::Append => old_size / self.block_size,
        };
        let total_blocks = new_size.div_ceil(self.block_size);
        let needed_blocks = total_blocks - kept_blocks;
        let old_blocks = self.file_blocks(location.existing);
        let mut blocks = Vec::new();
        blocks.try_reserve_exact(total_blocks).map_err(no_memory)?;
        blocks.extend_from_slice(&old_blocks[..kept_blocks]);
        // The bytes that go into new blocks: the old partial tail (if
        // appending to one), then `data`.
        let tail_bytes = match mode {
            WriteMode::Append if !data.is_empty() => old_size % self.block_size,
            _ => 0,
        };
        let tail_block = if tail_bytes > 0 {
            old_blocks.get(kept_blocks).copied()
        } else {
            None
        };
        let new_name = match location.existing {
            None => Some(self.prepare_link(&location)?),
            Some(_) => None,
        };
        if needed_blocks > self.free_blocks {
            return Err(Errno::ENOSPC);
        }
        let mut scratch = self.scratch_block()?;
        if let Some(tail) = tail_block {
            self.device
                .read_block(tail, &mut scratch)
                .map_err(Errno::from)?;
        }
        let first_new = blocks.len();
        let mut data_offset = 0;
        while blocks.len() < total_blocks {
            let prefix = if blocks.len() == first_new {
                tail_bytes
            } else {
                0
            };
            let take = (self.block_size - prefix).min(data.len() - data_offset);
            scratch[prefix..prefix + take].copy_from_slice(&data[data_offset..data_offset + take]);
            // Zero the rest so stale bytes never leak past the end of file.
            scratch[prefix + take..].fill(0);
            data_offset += take;
            let Some(block) = self.allocate() else {
                // Cannot happen: free_blocks was checked above.
                self.free(&blocks[first_new..]);
                return Err(Errno::ENOSPC);
            };
            blocks.push(block);
            if let Err(error) = self.device.write_block(block, &scratch) {
                self.free(&blocks[first_new..]);
                return Err(Errno::from(error));
            }
        }
        // Commit: nothing below can fail.
        let node = Node::File {
            size: new_size,
            blocks,
        };
        match (location.existing, new_name) {
            (Some(id), _) => {
                let old = core::mem::replace(self.node_mut(id), node);
                if let Node::File {
                    blocks: old_blocks, ..
                } = old
                {
                    self.free(&old_blocks[kept_blocks..]);
                }
            }
            (None, Some(name)) => self.link(&location, name, node),
            (None, None) => {}
        }
        self.stats.writes += 1;
        self.stats.written_bytes += data.len() as u64;
        Ok(data.len())
    }

    /// The whole content of the file at `path`.
    ///
    /// Errors: those of [`Vfs::resolve`]; `ENOENT`; `ENOTDIR` if an ancestor
    /// is a file; `EISDIR` for a directory; the device's errno if a block
    /// read failed; `ENOMEM`.
    pub fn read(&mut self, path: &str) -> Result<Vec<u8>, Errno> {
        let resolved = self.resolve("/", path)?;
        let id = self.lookup(&resolved)?;
        let Node::File { size, .. } = self.node(id) else {
            return Err(Errno::EISDIR);
        };
        let size = *size;
        self.stats.opens += 1;
        let mut content = Vec::new();
        content.try_reserve_exact(size).map_err(no_memory)?;
        let mut scratch = self.scratch_block()?;
        // Index loop: `self.device` is borrowed mutably while reading.
        for index in 0..size.div_ceil(self.block_size) {
            let Node::File { blocks, .. } = self.node(id) else {
                break;
            };
            let block = blocks[index];
            self.device
                .read_block(block, &mut scratch)
                .map_err(Errno::from)?;
            let take = (size - content.len()).min(self.block_size);
            content.extend_from_slice(&scratch[..take]);
        }
        self.stats.reads += 1;
        self.stats.read_bytes += size as u64;
        Ok(content)
    }

    /// Creates a directory.
    ///
    /// Errors: those of [`Vfs::resolve`]; `EEXIST` if `path` exists;
    /// `ENOENT` if the parent is missing; `ENOTDIR` if an ancestor is a
    /// file; `ENOSPC` at the node limit; `ENOMEM`.
    pub fn mkdir(&mut self, path: &str) -> Result<(), Errno> {
        let resolved = self.resolve("/", path)?;
        if resolved == "/" {
            return Err(Errno::EEXIST);
        }
        let location = self.locate(&resolved)?;
        if location.existing.is_some() {
            return Err(Errno::EEXIST);
        }
        let name = self.prepare_link(&location)?;
        let node = Node::Directory {
            entries: Vec::new(),
        };
        self.link(&location, name, node);
        Ok(())
    }

    /// Removes an empty directory.
    ///
    /// Errors: those of [`Vfs::resolve`]; `EBUSY` for `/`; `ENOENT`;
    /// `ENOTDIR` if `path` or an ancestor is a file; `ENOTEMPTY`.
    pub fn rmdir(&mut self, path: &str) -> Result<(), Errno> {
        let resolved = self.resolve("/", path)?;
        if resolved == "/" {
            return Err(Errno::EBUSY);
        }
        let location = self.locate(&resolved)?;
        let id = location.existing.ok_or(Errno::ENOENT)?;
        match self.node(id) {
            Node::File { .. } => return Err(Errno::ENOTDIR),
            Node::Directory { entries } if !entries.is_empty() => return Err(Errno::ENOTEMPTY),
            Node::Directory { .. } => {}
        }
        self.unlink(location.parent, location.slot);
        Ok(())
    }

    /// Removes a file and frees its blocks.
    ///
    /// Errors: those of [`Vfs::resolve`]; `ENOENT`; `ENOTDIR` if an ancestor
    /// is a file; `EISDIR` for a directory (use `rmdir`).
    pub fn remove(&mut self, path: &str) -> Result<(), Errno> {
        let resolved = self.resolve("/", path)?;
        if resolved == "/" {
            return Err(Errno::EISDIR);
        }
        let location = self.locate(&resolved)?;
        let id = location.existing.ok_or(Errno::ENOENT)?;
        if self.node(id).kind() == NodeKind::Directory {
            return Err(Errno::EISDIR);
        }
        self.unlink(location.parent, location.slot);
        Ok(())
    }

    /// The entries of a directory, sorted by name (byte order).
    ///
    /// Errors: those of [`Vfs::resolve`]; `ENOENT`; `ENOTDIR` if `path` or
    /// an ancestor is a file; `ENOMEM`.
    pub fn list(&self, path: &str) -> Result<Vec<DirEntry>, Errno> {
        let resolved = self.resolve("/", path)?;
        let id = self.lookup(&resolved)?;
        let Node::Directory { entries } = self.node(id) else {
            return Err(Errno::ENOTDIR);
        };
        let mut listing = Vec::new();
        listing
            .try_reserve_exact(entries.len())
            .map_err(no_memory)?;
        for (name, child) in entries {
            let child = self.node(*child);
            listing.push(DirEntry {
                name: try_string(name)?,
                kind: child.kind(),
                size: child.size(),
            });
        }
        Ok(listing)
    }

    /// Kind and size of the node at `path`.
    ///
    /// Errors: those of [`Vfs::resolve`]; `ENOENT`; `ENOTDIR` if an ancestor
    /// is a file.
    pub fn stat(&self, path: &str) -> Result<Metadata, Errno> {
        let resolved = self.resolve("/", path)?;
        let node = self.node(self.lookup(&resolved)?);
        Ok(Metadata {
            kind: node.kind(),
            size: node.size(),
            blocks: match node {
                Node::File { blocks, .. } => blocks.len(),
                Node::Directory { .. } => 0,
            },
        })
    }

    /// Whether `path` names a directory (false for any error).
    pub fn is_dir(&self, path: &str) -> bool {
        self.stat(path).is_ok_and(|m| m.kind == NodeKind::Directory)
    }

    /// Checks every invariant of the node table and the block allocator:
    /// each node reachable exactly once from `/`, entries sorted and unique,
    /// each file holding `ceil(size / block_size)` blocks, each used block
    /// owned by exactly one file, and the counters matching. Tests call it
    /// after every operation; a shell `fsck` could too.
    pub fn check(&self) -> Result<(), &'static str> {
        let mut seen_nodes = 0;
        let mut files = 0;
        let mut directories = 0;
        const NO_MEMORY: &str = "not enough memory to run the check";
        let mut owned = Vec::new();
        owned
            .try_reserve_exact(self.block_count)
            .map_err(|_| NO_MEMORY)?;
        owned.resize(self.block_count, false);
        let mut reached = Vec::new();
        reached
            .try_reserve_exact(self.nodes.len())
            .map_err(|_| NO_MEMORY)?;
        reached.resize(self.nodes.len(), false);
        let mut stack = Vec::from([ROOT]);
        while let Some(id) = stack.pop() {
            let Some(Some(node)) = self.nodes.get(id) else {
                return Err("entry names a free or missing node");
            };
            if core::mem::replace(&mut reached[id], true) {
                return Err("node reachable twice");
            }
            seen_nodes += 1;
            match node {
                Node::File { size, blocks } => {
                    files += 1;
                    if blocks.len() != size.div_ceil(self.block_size) {
                        return Err("file block count does not match its size");
                    }
                    if *size > self.limits.max_file_bytes {
                        return Err("file over max_file_bytes");
                    }
                    for &block in blocks {
                        let block = block as usize;
                        if block >= self.block_count {
                            return Err("block index out of range");
                        }
                        if core::mem::replace(&mut owned[block], true) {
                            return Err("block owned twice");
                        }
                        if self.used_bitmap[block / 64] & (1 << (block % 64)) == 0 {
                            return Err("owned block marked free");
                        }
                    }
                }
                Node::Directory { entries } => {
                    directories += 1;
                    if entries.windows(2).any(|pair| pair[0].0 >= pair[1].0) {
                        return Err("directory entries not sorted and unique");
                    }
                    for (name, child) in entries {
                        if name.is_empty()
                            || name.len() > self.limits.max_name_bytes
                            || name.contains('/')
                            || name == "."
                            || name == ".."
                        {
                            return Err("invalid entry name");
                        }
                        stack.try_reserve(1).map_err(|_| NO_MEMORY)?;
                        stack.push(*child);
                    }
                }
            }
        }
        let owned_count = owned.iter().filter(|&&o| o).count();
        let marked_count: usize = self
            .used_bitmap
            .iter()
            .map(|w| w.count_ones() as usize)
            .sum();
        if owned_count != marked_count || self.block_count - self.free_blocks != owned_count {
            return Err("leaked or double-counted blocks");
        }
        if seen_nodes != self.live_nodes || self.nodes.iter().flatten().count() != seen_nodes {
            return Err("unreachable nodes");
        }
        if self.stats.files != files || self.stats.directories != directories {
            return Err("file or directory counter is wrong");
        }
        Ok(())
    }
}
