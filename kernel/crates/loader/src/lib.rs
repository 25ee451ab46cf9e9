//! The ELF half of loading a user program: checks an image and lists what to
//! map, without touching memory. The kernel then allocates pages, copies
//! each segment's file bytes, zeroes the rest and maps them with the
//! segment's permissions.
//!
//! An image is refused (with a [`LoadError`] naming the reason) unless it is
//! a 64-bit little-endian executable for this machine with 1 to
//! [`MAX_SEGMENTS`] loadable segments, each page-aligned, inside user space
//! (`[USER_BASE, USER_TOP)` of sis-syscall), with its file bytes inside the
//! file, not overlapping another, and never both writable and executable
//! (W^X); and the entry point lies in an executable segment.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]

use elf::abi::{ET_EXEC, PF_R, PF_W, PF_X, PT_LOAD};
use elf::endian::LittleEndian;
use elf::ElfBytes;
use sis_syscall::limits::{PAGE_SIZE, USER_BASE, USER_TOP};

/// Most loadable segments an image may have (text, rodata, data, and one spare).
pub const MAX_SEGMENTS: usize = 4;

/// The ELF machine of the arch a kernel runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Machine {
    Aarch64,
    Riscv64,
    X86_64,
}

impl Machine {
    fn e_machine(self) -> u16 {
        match self {
            Machine::Aarch64 => elf::abi::EM_AARCH64,
            Machine::Riscv64 => elf::abi::EM_RISCV,
            Machine::X86_64 => elf::abi::EM_X86_64,
        }
    }
}

/// Why an image was refused; `message()` is the text after `run: `.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadError {
    NotElf,
    WrongMachine,
    NotExecutable,
    NoSegments,
    TooManySegments,
    Misaligned,
    OutsideUserSpace,
    FileRange,
    Overlap,
    WritableAndExecutable,
    BadEntry,
}

impl LoadError {
    pub const fn message(self) -> &'static str {
        match self {
            LoadError::NotElf => "not a 64-bit little-endian ELF file",
            LoadError::WrongMachine => "ELF file for another architecture",
            LoadError::NotExecutable => "ELF file is not an executable (ET_EXEC)",
            LoadError::NoSegments => "ELF file has no loadable segment",
            LoadError::TooManySegments => "ELF file has more than 4 loadable segments",
            LoadError::Misaligned => "a segment does not start on a page",
            LoadError::OutsideUserSpace => "a segment lies outside user space",
            LoadError::FileRange => "a segment's bytes lie outside the file or exceed its size in memory",
            LoadError::Overlap => "two segments share a page",
            LoadError::WritableAndExecutable => "a segment is writable and executable (W^X)",
            LoadError::BadEntry => "the entry point is not in an executable segment",
        }
    }
}

/// One segment to map: `[address, address + memory_size)`, the first
/// `file_size` bytes from the file at `file_offset`, the rest zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub address: u64,
    pub memory_size: u64,
    pub file_offset: u64,
    pub file_size: u64,
    pub writable: bool,
    pub executable: bool,
}

impl Segment {
    /// Pages it spans (its address is page-aligned).
    pub fn pages(&self) -> u64 {
        self.memory_size.div_ceil(PAGE_SIZE)
    }

    /// One past its last page.
    pub fn end_page(&self) -> u64 {
        self.address + self.pages() * PAGE_SIZE
    }
}

/// A checked image: its entry point and segments, in address order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Image {
    pub entry: u64,
    segments: [Segment; MAX_SEGMENTS],
    count: usize,
}

impl Image {
    pub fn segments(&self) -> &[Segment] {
        &self.segments[..self.count]
    }
}

/// Checks `bytes` as a user program for `machine`.
pub fn parse(bytes: &[u8], machine: Machine) -> Result<Image, LoadError> {
    let file = ElfBytes::<LittleEndian>::minimal_parse(bytes).map_err(|_| LoadError::NotElf)?;
    let header = &file.ehdr;
    if header.class != elf::file::Class::ELF64 {
        return Err(LoadError::NotElf);
    }
    if header.e_machine != machine.e_machine() {
        return Err(LoadError::WrongMachine);
    }
    if header.e_type != ET_EXEC {
        return Err(LoadError::NotExecutable);
    }
    let program_headers = file.segments().ok_or(LoadError::NoSegments)?;
    let empty = Segment { address: 0, memory_size: 0, file_offset: 0, file_size: 0, writable: false, executable: false };
    let mut segments = [empty; MAX_SEGMENTS];
    let mut count = 0;
    for header in program_headers.iter().filter(|header| header.p_type == PT_LOAD && header.p_memsz > 0) {
        if count == MAX_SEGMENTS {
            return Err(LoadError::TooManySegments);
        }
        let segment = Segment {
            address: header.p_vaddr,
            memory_size: header.p_memsz,
            file_offset: header.p_offset,
            file_size: header.p_filesz,
            writable: header.p_flags & PF_W != 0,
            executable: header.p_flags & PF_X != 0,
        };
        check_segment(&segment, header.p_flags, bytes.len() as u64)?;
        segments[count] = segment;
        count += 1;
    }
    if count == 0 {
        return Err(LoadError::NoSegments);
    }
    segments[..count].sort_unstable_by_key(|segment| segment.address);
    if segments[..count].windows(2).any(|pair| pair[0].end_page() > pair[1].address) {
        return Err(LoadError::Overlap);
    }
    let entry = header.e_entry;
    if !segments[..count].iter().any(|s| s.executable && s.address <= entry && entry < s.address + s.memory_size) {
        return Err(LoadError::BadEntry);
    }
    Ok(Image { entry, segments, count })
}

fn check_segment(segment: &Segment, flags: u32, file_len: u64) -> Result<(), LoadError> {
    if !segment.address.is_multiple_of(PAGE_SIZE) {
        return Err(LoadError::Misaligned);
    }
    if flags & PF_W != 0 && flags & PF_X != 0 {
        return Err(LoadError::WritableAndExecutable);
    }
    // Readable is implied: every user mapping can be read.
    let _ = PF_R;
    match segment.address.checked_add(segment.memory_size) {
        Some(end) if segment.address >= USER_BASE && end <= USER_TOP => {}
        _ => return Err(LoadError::OutsideUserSpace),
    }
    match segment.file_offset.checked_add(segment.file_size) {
        Some(end) if end <= file_len && segment.file_size <= segment.memory_size => Ok(()),
        _ => Err(LoadError::FileRange),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: u64 = 0x20_0000_0000;

    /// (flags, vaddr, offset, filesz, memsz) of one PT_LOAD.
    type Load = (u32, u64, u64, u64, u64);

    /// A minimal ELF64 LE executable: header, program headers, then zeros
    /// up to `file_len`.
    fn image(machine: u16, kind: u16, entry: u64, loads: &[Load], file_len: usize) -> Vec<u8> {
        let mut bytes = vec![0u8; file_len.max(64 + 56 * loads.len())];
        bytes[..4].copy_from_slice(b"\x7fELF");
        bytes[4] = 2; // ELFCLASS64
        bytes[5] = 1; // little-endian
        bytes[6] = 1; // EV_CURRENT
        bytes[16..18].copy_from_slice(&kind.to_le_bytes());
        bytes[18..20].copy_from_slice(&machine.to_le_bytes());
        bytes[20..24].copy_from_slice(&1u32.to_le_bytes());
        bytes[24..32].copy_from_slice(&entry.to_le_bytes());
        bytes[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
        bytes[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
        bytes[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
        bytes[56..58].copy_from_slice(&(loads.len() as u16).to_le_bytes());
        bytes[58..60].copy_from_slice(&64u16.to_le_bytes()); // e_shentsize
        for (index, &(flags, vaddr, offset, filesz, memsz)) in loads.iter().enumerate() {
            let at = 64 + 56 * index;
            let header = &mut bytes[at..at + 56];
            header[0..4].copy_from_slice(&PT_LOAD.to_le_bytes());
            header[4..8].copy_from_slice(&flags.to_le_bytes());
            header[8..16].copy_from_slice(&offset.to_le_bytes());
            header[16..24].copy_from_slice(&vaddr.to_le_bytes());
            header[24..32].copy_from_slice(&vaddr.to_le_bytes());
            header[32..40].copy_from_slice(&filesz.to_le_bytes());
            header[40..48].copy_from_slice(&memsz.to_le_bytes());
            header[48..56].copy_from_slice(&PAGE_SIZE.to_le_bytes());
        }
        bytes
    }

    const RX: u32 = PF_R | PF_X;
    const RO: u32 = PF_R;
    const RW: u32 = PF_R | PF_W;

    fn program(loads: &[Load]) -> Vec<u8> {
        image(elf::abi::EM_AARCH64, ET_EXEC, BASE, loads, 0x3000)
    }

    #[test]
    fn a_three_segment_program_loads_in_address_order() {
        let bytes = program(&[(RW, BASE + 0x2000, 0x2000, 0x10, 0x3000), (RX, BASE, 0x1000, 0x800, 0x800), (RO, BASE + 0x1000, 0x1000, 0x100, 0x100)]);
        let image = parse(&bytes, Machine::Aarch64).unwrap();
        assert_eq!(image.entry, BASE);
        let addresses: Vec<u64> = image.segments().iter().map(|s| s.address).collect();
        assert_eq!(addresses, vec![BASE, BASE + 0x1000, BASE + 0x2000]);
        assert!(image.segments()[0].executable && !image.segments()[0].writable);
        assert!(image.segments()[2].writable && !image.segments()[2].executable);
        assert_eq!(image.segments()[2].pages(), 3); // bss beyond the file bytes
    }

    #[test]
    fn header_checks() {
        let loads = [(RX, BASE, 0x1000, 0x10, 0x10)];
        assert_eq!(parse(b"not an elf file at all, clearly not one", Machine::Aarch64), Err(LoadError::NotElf));
        assert_eq!(parse(&[], Machine::Aarch64), Err(LoadError::NotElf));
        assert_eq!(parse(&program(&loads), Machine::X86_64), Err(LoadError::WrongMachine));
        let shared = image(elf::abi::EM_AARCH64, elf::abi::ET_DYN, BASE, &loads, 0x2000);
        assert_eq!(parse(&shared, Machine::Aarch64), Err(LoadError::NotExecutable));
        assert_eq!(parse(&program(&[]), Machine::Aarch64), Err(LoadError::NoSegments));
        let mut elf32 = program(&loads);
        elf32[4] = 1;
        assert!(parse(&elf32, Machine::Aarch64).is_err());
    }

    #[test]
    fn segment_bounds() {
        // Ends exactly at USER_TOP: fine. One byte more: outside.
        let top = USER_TOP - PAGE_SIZE;
        assert!(parse(&image(elf::abi::EM_AARCH64, ET_EXEC, top, &[(RX, top, 0x1000, 0x10, PAGE_SIZE)], 0x2000), Machine::Aarch64).is_ok());
        assert_eq!(parse(&image(elf::abi::EM_AARCH64, ET_EXEC, top, &[(RX, top, 0x1000, 0x10, PAGE_SIZE + 1)], 0x2000), Machine::Aarch64), Err(LoadError::OutsideUserSpace));
        assert_eq!(parse(&program(&[(RX, 0, 0x1000, 0x10, 0x10)]), Machine::Aarch64), Err(LoadError::OutsideUserSpace));
        assert_eq!(parse(&program(&[(RX, !(PAGE_SIZE - 1), 0x1000, 0x10, PAGE_SIZE)]), Machine::Aarch64), Err(LoadError::OutsideUserSpace));
        assert_eq!(parse(&program(&[(RX, 0xffff_0000_4000_0000, 0x1000, 0x10, 0x10)]), Machine::Aarch64), Err(LoadError::OutsideUserSpace));
        assert_eq!(parse(&program(&[(RX, BASE + 8, 0x1000, 0x10, 0x10)]), Machine::Aarch64), Err(LoadError::Misaligned));
    }

    #[test]
    fn file_ranges() {
        // The last byte of the file: fine. Past it, or wrapping, or filesz > memsz: refused.
        assert!(parse(&program(&[(RX, BASE, 0x2000, 0x1000, 0x1000)]), Machine::Aarch64).is_ok());
        assert_eq!(parse(&program(&[(RX, BASE, 0x2000, 0x1001, 0x2000)]), Machine::Aarch64), Err(LoadError::FileRange));
        assert_eq!(parse(&program(&[(RX, BASE, u64::MAX, 2, 0x2000)]), Machine::Aarch64), Err(LoadError::FileRange));
        assert_eq!(parse(&program(&[(RX, BASE, 0x1000, 0x20, 0x10)]), Machine::Aarch64), Err(LoadError::FileRange));
    }

    #[test]
    fn wx_overlap_entry_and_count() {
        assert_eq!(parse(&program(&[(PF_R | PF_W | PF_X, BASE, 0x1000, 0x10, 0x10)]), Machine::Aarch64), Err(LoadError::WritableAndExecutable));
        // Sharing a page (the first ends mid-page where the second starts).
        assert_eq!(parse(&program(&[(RX, BASE, 0x1000, 0x10, 0x10), (RW, BASE, 0x1000, 0x10, 0x10)]), Machine::Aarch64), Err(LoadError::Overlap));
        assert_eq!(parse(&program(&[(RX, BASE, 0x1000, 0x10, 0x1001), (RW, BASE + 0x1000, 0x1000, 0x10, 0x10)]), Machine::Aarch64), Err(LoadError::Overlap));
        // Entry in a non-executable segment, or past the end of the text.
        assert_eq!(parse(&image(elf::abi::EM_AARCH64, ET_EXEC, BASE + 0x1000, &[(RX, BASE, 0x1000, 0x10, 0x10), (RW, BASE + 0x1000, 0x1000, 0x10, 0x10)], 0x3000), Machine::Aarch64), Err(LoadError::BadEntry));
        assert_eq!(parse(&image(elf::abi::EM_AARCH64, ET_EXEC, BASE + 0x10, &[(RX, BASE, 0x1000, 0x10, 0x10)], 0x3000), Machine::Aarch64), Err(LoadError::BadEntry));
        let five: Vec<Load> = (0..5).map(|i| (RO, BASE + i * 0x1000, 0x1000, 0x10, 0x10)).collect();
        assert_eq!(parse(&program(&five), Machine::Aarch64), Err(LoadError::TooManySegments));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A cheap deterministic fuzz: mutate a valid image byte by byte.
        let valid = program(&[(RX, BASE, 0x1000, 0x800, 0x800), (RW, BASE + 0x1000, 0x1000, 0x10, 0x3000)]);
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let mut bytes = valid.clone();
            for _ in 0..4 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let at = (state % 512) as usize; // header and program headers
                bytes[at] = (state >> 32) as u8;
            }
            if let Ok(image) = parse(&bytes, Machine::Aarch64) {
                for segment in image.segments() {
                    assert!(segment.address >= USER_BASE && segment.address + segment.memory_size <= USER_TOP);
                    assert!(segment.file_offset + segment.file_size <= bytes.len() as u64);
                    assert!(!(segment.writable && segment.executable));
                }
            }
        }
    }
}
