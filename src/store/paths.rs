//! Paths from the index are untrusted: they must stay inside the history directory.

use std::path::{Component, Path, PathBuf};

/// Resolves `rel` (from `audio_file`/`thumbnail_file`) inside `dir`, or says why not.
/// Refused: empty, absolute, any `..`, or anything whose existing part resolves
/// (through symlinks) outside `dir`. A missing file inside `dir` is fine.
pub fn resolve_inside(dir: &Path, rel: &str) -> Result<PathBuf, String> {
    if rel.is_empty() {
        return Err("empty path".into());
    }
    if rel.contains('\0') {
        return Err("path contains a NUL byte".into());
    }
    let p = Path::new(rel);
    for c in p.components() {
        match c {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => return Err(format!("path '{rel}' contains '..'")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!("path '{rel}' is absolute"))
            }
        }
    }
    let joined = dir.join(p);
    let root = dir
        .canonicalize()
        .map_err(|e| format!("history directory: {e}"))?;
    // Canonicalize the longest existing ancestor (the file itself when it exists).
    let mut probe = joined.as_path();
    loop {
        match probe.canonicalize() {
            Ok(real) => {
                if real.starts_with(&root) {
                    return Ok(joined);
                }
                return Err(format!(
                    "path '{rel}' leads outside the history directory (to {})",
                    real.display()
                ));
            }
            Err(_) => match probe.parent() {
                Some(parent) => probe = parent,
                None => return Err(format!("path '{rel}' cannot be resolved")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_escapes_and_accepts_inside() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("audio")).unwrap();
        std::fs::write(d.path().join("audio/a.wav"), b"x").unwrap();
        assert!(resolve_inside(d.path(), "audio/a.wav").is_ok());
        assert!(resolve_inside(d.path(), "audio/missing.wav").is_ok());
        assert!(resolve_inside(d.path(), "/etc/passwd").is_err());
        assert!(resolve_inside(d.path(), "../x.wav").is_err());
        assert!(resolve_inside(d.path(), "audio/../../x.wav").is_err());
        assert!(resolve_inside(d.path(), "").is_err());
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.wav"), b"x").unwrap();
        std::os::unix::fs::symlink(outside.path(), d.path().join("audio/link")).unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("secret.wav"),
            d.path().join("audio/s.wav"),
        )
        .unwrap();
        assert!(resolve_inside(d.path(), "audio/link/secret.wav").is_err());
        assert!(resolve_inside(d.path(), "audio/s.wav").is_err());
        assert!(resolve_inside(d.path(), "audio/link/new.wav").is_err());
    }
}
