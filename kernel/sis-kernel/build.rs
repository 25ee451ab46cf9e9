//! Build script: picks the arch's linker script and records build metadata
//! (commit, branch, dirty flag, build time, toolchain, features, profile,
//! target) as constants for `version` and the boot banner, and embeds the
//! user programs of kernel/user (built first by `sis build`).

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    let manifest_dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let arch = env::var("CARGO_CFG_TARGET_ARCH").expect("cargo sets CARGO_CFG_TARGET_ARCH");
    let script = format!("{manifest_dir}/src/arch/{arch}/linker.ld");
    println!("cargo:rustc-link-arg=-T{script}");
    println!("cargo:rerun-if-changed={script}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src");
    // The build id hashes the workspace crates' sources too: an edit there must change it.
    println!("cargo:rerun-if-changed=../crates");
    println!("cargo:rerun-if-changed=../Cargo.lock");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    write_build_info();
    embed_user_programs();
}

/// The user programs the kernel carries, in the order `programs` lists them.
const USER_PROGRAMS: [&str; 6] = ["hello", "fault", "badptr", "fuzz", "selftest", "escape"];

/// Writes `user_programs.rs`: a table of (name, ELF bytes) with each ELF
/// copied from SIS_USER_PROGRAMS (default ../user/target) /<target>/release.
/// A missing program is a build error naming the command that builds it.
fn embed_user_programs() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let target = env::var("TARGET").expect("cargo sets TARGET");
    println!("cargo:rerun-if-env-changed=SIS_USER_PROGRAMS");
    let root = env::var("SIS_USER_PROGRAMS").map(PathBuf::from).unwrap_or_else(|_| manifest_dir.join("../user/target"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut code = String::from("/// (name, ELF file) of every embedded user program.\npub static PROGRAMS: &[(&str, &[u8])] = &[\n");
    for name in USER_PROGRAMS {
        let elf = root.join(&target).join("release").join(name);
        println!("cargo:rerun-if-changed={}", elf.display());
        let bytes = fs::read(&elf).unwrap_or_else(|error| {
            panic!("user program {name} not found at {} ({error}): build the kernel with `./sis build`, which builds kernel/user first", elf.display())
        });
        let copy = out_dir.join(format!("user-{name}.elf"));
        fs::write(&copy, bytes).expect("OUT_DIR is writable");
        writeln!(code, "    ({name:?}, include_bytes!({:?})),", copy.display().to_string()).expect("writing to a String cannot fail");
    }
    code.push_str("];\n");
    fs::write(out_dir.join("user_programs.rs"), code).expect("OUT_DIR is writable");
}

/// Runs git in the crate's folder; None when git or the repository is absent
/// (a source tarball builds too, with "unknown" fields).
fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

fn write_build_info() {
    let commit = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let short = git(&["rev-parse", "--short=7", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let branch = git(&["rev-parse", "--abbrev-ref", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    // Rebuild the metadata when the checkout moves to another commit or the
    // index changes; edits under src/ rerun this script anyway.
    // Only paths that exist: cargo treats a missing one as always changed,
    // which would rebuild the kernel every time.
    let watch = |path: &str| {
        if let Some(file) = git(&["rev-parse", "--path-format=absolute", "--git-path", path]) {
            if std::path::Path::new(&file).exists() {
                println!("cargo:rerun-if-changed={file}");
            }
        }
    };
    for path in ["HEAD", "index", "packed-refs"] {
        watch(path);
    }
    if let Some(reference) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch(&reference);
    }

    let epoch_seconds = env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|value| value.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
        });
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc_version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let mut features: Vec<String> = env::vars()
        .filter_map(|(key, _)| key.strip_prefix("CARGO_FEATURE_").map(|f| f.to_lowercase().replace('_', "-")))
        .collect();
    features.sort();
    let profile = env::var("PROFILE").unwrap_or_else(|_| "unknown".into());
    let target = env::var("TARGET").unwrap_or_else(|_| "unknown".into());

    let mut code = String::new();
    let mut constant = |name: &str, value: &str| {
        writeln!(code, "pub const {name}: &str = {value:?};").expect("writing to a String cannot fail");
    };
    constant("GIT_COMMIT", &commit);
    constant("GIT_COMMIT_SHORT", &short);
    constant("GIT_BRANCH", &branch);
    constant("BUILD_TIMESTAMP", &rfc3339_utc(epoch_seconds));
    constant("RUSTC_VERSION", &rustc_version);
    constant("FEATURES", &features.join(","));
    constant("PROFILE", &profile);
    constant("TARGET", &target);
    // What `sis panic decode` compares with the ELF it is given: the same
    // sources, features and toolchain give the same id, any edit another.
    // The marker form is what the decoder finds in the ELF's bytes.
    let manifest_dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let build_id = source_build_id(&manifest_dir, &[&commit, &features.join(","), &profile, &target, &rustc_version]);
    constant("BUILD_ID", &build_id);
    constant("BUILD_ID_MARKER", &format!("sis-build-id:{build_id}"));
    writeln!(code, "pub const GIT_DIRTY: bool = {dirty};").expect("writing to a String cannot fail");

    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("build_info.rs");
    fs::write(out, code).expect("OUT_DIR is writable");
}

/// 16 hex digits of FNV-1a 64 over `facts` and every file under the kernel
/// crate's `src/`, the workspace `crates/` and `Cargo.lock`, in sorted path
/// order (FNV: tiny, deterministic, no dependency; not a security hash).
fn source_build_id(manifest_dir: &str, facts: &[&str]) -> String {
    fn fnv(hash: &mut u64, bytes: &[u8]) {
        for byte in bytes {
            *hash ^= u64::from(*byte);
            *hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn collect(dir: &std::path::Path, files: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|name| name != "target") {
                    collect(&path, files);
                }
            } else {
                files.push(path);
            }
        }
    }
    let root = std::path::Path::new(manifest_dir);
    let mut files = Vec::new();
    collect(&root.join("src"), &mut files);
    collect(&root.join("../crates"), &mut files);
    files.push(root.join("../Cargo.lock"));
    files.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for fact in facts {
        fnv(&mut hash, fact.as_bytes());
        fnv(&mut hash, &[0]);
    }
    for file in &files {
        if let Ok(bytes) = fs::read(file) {
            let relative = file.strip_prefix(root).unwrap_or(file);
            fnv(&mut hash, relative.to_string_lossy().as_bytes());
            fnv(&mut hash, &[0]);
            fnv(&mut hash, &bytes);
        }
    }
    format!("{hash:016x}")
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the Unix epoch (proleptic
/// Gregorian calendar; the days-to-date step is Howard Hinnant's
/// `civil_from_days`).
fn rfc3339_utc(epoch_seconds: i64) -> String {
    let days = epoch_seconds.div_euclid(86_400);
    let seconds_of_day = epoch_seconds.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds_of_day / 3600,
        seconds_of_day / 60 % 60,
        seconds_of_day % 60
    )
}
