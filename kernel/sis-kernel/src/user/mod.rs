//! User programs: the ELF files embedded at build time (build.rs, from
//! kernel/user) and their checked images (sis-loader).

mod programs {
    include!(concat!(env!("OUT_DIR"), "/user_programs.rs"));
}

/// One embedded program.
pub struct Program {
    pub name: &'static str,
    pub elf: &'static [u8],
}

/// Every embedded program, in build order.
pub fn programs() -> impl Iterator<Item = Program> {
    programs::PROGRAMS.iter().map(|&(name, elf)| Program { name, elf })
}

impl Program {
    /// Its image checked for this arch: what the loader would map.
    pub fn image(&self) -> Result<sis_loader::Image, sis_loader::LoadError> {
        sis_loader::parse(self.elf, crate::arch::ELF_MACHINE)
    }
}
