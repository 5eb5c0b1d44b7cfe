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
    parse_patches(&read_patches_text(file)?, file)
}

/// The text of the patches file `file`.
pub(crate) fn read_patches_text(file: &Path) -> Result<String, BuildError> {
    std::fs::read_to_string(file).map_err(|error| BuildError::Patches {
        path: file.to_path_buf(),
        message: format!("cannot read it: {error}"),
    })
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
/// or a `Cargo.toml`. A crate listed more than once (two versions of it,
/// crossterm 0.28 and 0.29) gets one entry per version, the later ones under
/// a key of their own with `package = "<crate>"`, as cargo's docs describe
/// for patching several versions of one crate.
pub fn patch_table(patches: &[Patch]) -> String {
    let mut text = String::from("[patch.crates-io]\n");
    let quote = |text: &str| format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""));
    for entry in patch_entries(patches) {
        let path = quote(&entry.path.to_string_lossy());
        match entry.package {
            None => text.push_str(&format!("{} = {{ path = {path} }}\n", entry.key)),
            Some(package) => {
                text.push_str(&format!("{} = {{ path = {path}, package = {} }}\n", entry.key, quote(package)))
            }
        }
    }
    text
}

/// One entry of the `[patch.crates-io]` table.
pub(crate) struct PatchEntry<'a> {
    /// The table key: the crate's name, or `<crate>-tau-<n>` for the n-th
    /// version of a crate listed more than once.
    pub key: String,
    pub path: &'a Path,
    /// The crate's name when the key is not it.
    pub package: Option<&'a str>,
}

/// The table's entries for `patches`, in order (see [`patch_table`]).
pub(crate) fn patch_entries(patches: &[Patch]) -> Vec<PatchEntry<'_>> {
    let mut seen = std::collections::HashMap::<&str, usize>::new();
    patches
        .iter()
        .map(|patch| {
            let count = seen.entry(&patch.name).or_insert(0);
            *count += 1;
            let (key, package) = match *count {
                1 => (patch.name.clone(), None),
                n => (format!("{}-tau-{n}", patch.name), Some(patch.name.as_str())),
            };
            PatchEntry { key, path: &patch.path, package }
        })
        .collect()
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
    fn two_versions_of_one_crate_get_two_entries() {
        let patch = |name: &str, path: &str| Patch { name: name.into(), path: PathBuf::from(path) };
        let patches = [patch("tokio", "/t"), patch("crossterm", "/c29"), patch("crossterm", "/c28")];
        assert_eq!(
            patch_table(&patches),
            "[patch.crates-io]\ntokio = { path = \"/t\" }\ncrossterm = { path = \"/c29\" }\n\
             crossterm-tau-2 = { path = \"/c28\", package = \"crossterm\" }\n"
        );
    }

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
