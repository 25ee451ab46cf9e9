//! Lexical path resolution: joins a path to a working directory and
//! normalizes it, without looking at the file system (there are no links, so
//! `..` can be resolved by dropping the previous component).

use alloc::string::String;
use alloc::vec::Vec;

use sis_abi::Errno;

use crate::Limits;

/// Joins `path` to `cwd` (unless `path` is absolute) and normalizes it.
///
/// The result is absolute, has no `.`, `..`, empty or trailing components,
/// and is `/` for the root. `..` at the root stays at the root.
///
/// Errors: `ENOENT` for an empty path (as POSIX); `EINVAL` if `cwd` is not
/// absolute or either contains a NUL byte; `ENAMETOOLONG` if `path` or the
/// result is longer than `limits.max_path_bytes`, or a component is longer
/// than `limits.max_name_bytes`; `ENOMEM` if memory runs out.
pub fn resolve(limits: &Limits, cwd: &str, path: &str) -> Result<String, Errno> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    if !cwd.starts_with('/') || cwd.contains('\0') || path.contains('\0') {
        return Err(Errno::EINVAL);
    }
    if path.len() > limits.max_path_bytes {
        return Err(Errno::ENAMETOOLONG);
    }
    let mut components: Vec<&str> = Vec::new();
    let base = if path.starts_with('/') { "" } else { cwd };
    for component in base.split('/').chain(path.split('/')) {
        match component {
            "" | "." => {}
            ".." => {
                components.pop();
            }
            name => {
                if name.len() > limits.max_name_bytes {
                    return Err(Errno::ENAMETOOLONG);
                }
                components.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
                components.push(name);
            }
        }
    }
    let length = components.iter().map(|c| c.len() + 1).sum::<usize>().max(1);
    if length > limits.max_path_bytes {
        return Err(Errno::ENAMETOOLONG);
    }
    let mut resolved = String::new();
    resolved
        .try_reserve_exact(length)
        .map_err(|_| Errno::ENOMEM)?;
    for component in &components {
        resolved.push('/');
        resolved.push_str(component);
    }
    if resolved.is_empty() {
        resolved.push('/');
    }
    Ok(resolved)
}

/// The components of a resolved path (none for `/`).
pub(crate) fn components(resolved: &str) -> impl Iterator<Item = &str> {
    resolved.split('/').filter(|c| !c.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    fn ok(cwd: &str, path: &str) -> String {
        resolve(&limits(), cwd, path).unwrap()
    }

    #[test]
    fn normalizes_dots_slashes_and_parents() {
        assert_eq!(ok("/", "/"), "/");
        assert_eq!(ok("/", "a"), "/a");
        assert_eq!(ok("/home", "a/b"), "/home/a/b");
        assert_eq!(ok("/home", "/etc"), "/etc");
        assert_eq!(ok("/a/b", ".."), "/a");
        assert_eq!(ok("/a/b", "../../.."), "/");
        assert_eq!(ok("/", "//a///b//"), "/a/b");
        assert_eq!(ok("/x", "./a/./b/."), "/x/a/b");
        assert_eq!(ok("/x/", "a/../b"), "/x/b");
        assert_eq!(ok("//x/./y/..", "."), "/x", "the cwd is normalized too");
    }

    #[test]
    fn rejects_bad_input_with_errnos() {
        assert_eq!(resolve(&limits(), "/", ""), Err(Errno::ENOENT));
        assert_eq!(resolve(&limits(), "relative", "a"), Err(Errno::EINVAL));
        assert_eq!(resolve(&limits(), "/", "a\0b"), Err(Errno::EINVAL));
        let long_name = "n".repeat(65);
        assert_eq!(
            resolve(&limits(), "/", &long_name),
            Err(Errno::ENAMETOOLONG)
        );
        assert_eq!(ok("/", &"n".repeat(64)).len(), 65);
        let long_path = "/a".repeat(128);
        assert_eq!(
            resolve(&limits(), "/", &long_path),
            Err(Errno::ENAMETOOLONG)
        );
        assert_eq!(ok("/", &"/a".repeat(127)).len(), 254);
    }

    #[test]
    fn a_result_over_the_limit_is_refused_even_if_each_input_fits() {
        let cwd = format!("/{}/{}/{}", "c".repeat(60), "d".repeat(60), "e".repeat(60));
        let path = format!("{}/{}", "f".repeat(60), "g".repeat(60));
        assert_eq!(resolve(&limits(), &cwd, &path), Err(Errno::ENAMETOOLONG));
        // But `..` can bring it back under.
        assert!(resolve(&limits(), &cwd, "../../x").is_ok());
    }

    #[test]
    fn components_of_root_are_empty() {
        assert_eq!(components("/").count(), 0);
        assert_eq!(components("/a/b").collect::<Vec<_>>(), ["a", "b"]);
    }
}
