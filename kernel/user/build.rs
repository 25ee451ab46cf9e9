//! Build script: links every user program with link.ld (the image at
//! 128 GiB, segments page-aligned so the loader can map them W^X).

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-arg-bins=-T{dir}/link.ld");
    println!("cargo:rustc-link-arg-bins=--no-pie");
    // 4 KiB pages on every arch: without this aarch64 pads segments to 64 KiB.
    println!("cargo:rustc-link-arg-bins=-zmax-page-size=4096");
    println!("cargo:rerun-if-changed=link.ld");
}
