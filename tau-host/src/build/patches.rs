//! `patches.list`: the crates patched into every plugin build.

use std::path::{Path, PathBuf};

use crate::error::BuildError;

/// One `[patch.crates-io]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Patch {
    /// The crate replaced.
    pub name: String,
    /// The directory of the replacement.
    pub path: PathBuf,
}

/// Reads `patches.list`: one `<crate> <path>` per line, paths relative to
/// the file; `#` starts a comment.
pub fn read_patches(file: &Path) -> Result<Vec<Patch>, BuildError> {
    let text = std::fs::read_to_string(file).map_err(|error| BuildError::Patches {
        path: file.to_path_buf(),
        message: format!("cannot read it: {error}"),
    })?;
    parse_patches(&text, file)
}

/// Parses the text of the patches file `file`.
pub(crate) fn parse_patches(text: &str, file: &Path) -> Result<Vec<Patch>, BuildError> {
    let base = file.parent().unwrap_or(Path::new("."));
    let mut patches = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(name), Some(path), None) = (words.next(), words.next(), words.next()) else {
            return Err(BuildError::Patches {
                path: file.to_path_buf(),
                message: format!("line {}: expected `<crate> <path>`, found `{line}`", number + 1),
            });
        };
        let path = base.join(path);
        let path = path.canonicalize().map_err(|error| BuildError::Patches {
            path: file.to_path_buf(),
            message: format!("line {}: {}: {error}", number + 1, path.display()),
        })?;
        patches.push(Patch { name: name.to_string(), path });
    }
    Ok(patches)
}

/// The `[patch.crates-io]` table of `patches`, for a `.cargo/config.toml`
/// or a `Cargo.toml`.
pub fn patch_table(patches: &[Patch]) -> String {
    let mut text = String::from("[patch.crates-io]\n");
    for patch in patches {
        let path = patch.path.to_string_lossy().replace('\\', "\\\\").replace('"', "\\\"");
        text.push_str(&format!("{} = {{ path = \"{path}\" }}\n", patch.name));
    }
    text
}

/// The `patches.list` of this tau checkout (`TAU_PATCHES` overrides it).
pub fn default_patches_file() -> PathBuf {
    std::env::var_os("TAU_PATCHES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../patches.list"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_list_lines() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sdk")).unwrap();
        let file = dir.path().join("patches.list");
        std::fs::write(&file, "# comment\n\ntau-sdk sdk # trailing\n").unwrap();
        let patches = read_patches(&file).unwrap();
        assert_eq!(
            patches,
            [Patch { name: "tau-sdk".into(), path: dir.path().join("sdk").canonicalize().unwrap() }]
        );

        std::fs::write(&file, "tau-sdk\n").unwrap();
        let error = read_patches(&file).unwrap_err().to_string();
        assert!(error.ends_with("line 1: expected `<crate> <path>`, found `tau-sdk`"), "{error}");

        std::fs::write(&file, "tau-sdk missing\n").unwrap();
        let error = read_patches(&file).unwrap_err().to_string();
        assert!(error.contains("line 1: ") && error.contains("missing"), "{error}");
    }
}
