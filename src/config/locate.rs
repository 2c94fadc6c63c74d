//! Where the config file is when `-c` is not given (spec config.md §1).

use std::path::{Path, PathBuf};

/// The paths tried in order. `exe_dir` is the directory holding the running
/// executable (as invoked, so a symlink's own directory counts).
pub fn search_paths(exe_dir: &Path) -> Vec<PathBuf> {
    // `<exe>/..`: the root's parent is the root itself (Python's
    // `os.path.join(here, "..")` with here = "/" also names "/").
    let parent = exe_dir.parent().unwrap_or(exe_dir);
    vec![
        parent.join("etc").join("supervisord.conf"),
        parent.join("supervisord.conf"),
        PathBuf::from("supervisord.conf"),
        PathBuf::from("etc/supervisord.conf"),
        PathBuf::from("/etc/supervisord.conf"),
        PathBuf::from("/etc/supervisor/supervisord.conf"),
    ]
}

/// The directory of the executable as the user invoked it: from `argv0` when
/// it has a `/`, else found on `PATH`, else the kernel's idea of it.
pub fn exe_dir(argv0: &str) -> PathBuf {
    let invoked = if argv0.contains('/') {
        Some(PathBuf::from(argv0))
    } else {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(argv0))
                .find(|candidate| candidate.is_file())
        })
    };
    let dir = invoked
        .or_else(|| std::env::current_exe().ok())
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    // Python takes the absolute path of argv[0]: `./supervisord` started in
    // `/` has its parent at `/`, not at an empty relative path.
    if dir.is_absolute() {
        dir
    } else {
        std::env::current_dir().map_or(dir.clone(), |cwd| cwd.join(&dir))
    }
}

/// The first search path that exists, or the error text listing them all.
pub fn find(exe_dir: &Path) -> Result<PathBuf, String> {
    let paths = search_paths(exe_dir);
    if let Some(found) = paths.iter().find(|p| p.exists()) {
        return Ok(found.clone());
    }
    let listed: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    Err(format!(
        "No config file found at default paths ({}); use the -c option to specify a config \
         file at a different path",
        listed.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_executable_in_the_root_directory_looks_in_etc_first() {
        let paths = search_paths(Path::new("/"));
        assert_eq!(paths[0], Path::new("/etc/supervisord.conf"));
        assert_eq!(paths[1], Path::new("/supervisord.conf"));
    }

    #[test]
    fn search_order_matches_supervisor() {
        let paths = search_paths(Path::new("/opt/sv/bin"));
        let shown: Vec<_> = paths.iter().map(|p| p.to_str().unwrap()).collect();
        assert_eq!(
            shown,
            [
                "/opt/sv/etc/supervisord.conf",
                "/opt/sv/supervisord.conf",
                "supervisord.conf",
                "etc/supervisord.conf",
                "/etc/supervisord.conf",
                "/etc/supervisor/supervisord.conf",
            ]
        );
    }

    #[test]
    fn first_existing_path_wins() {
        let root = tempfile::tempdir().unwrap();
        let bin = root.path().join("bin");
        std::fs::create_dir_all(root.path().join("etc")).unwrap();
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(root.path().join("supervisord.conf"), "").unwrap();
        assert_eq!(find(&bin).unwrap(), root.path().join("supervisord.conf"));
        std::fs::write(root.path().join("etc/supervisord.conf"), "").unwrap();
        assert_eq!(
            find(&bin).unwrap(),
            root.path().join("etc/supervisord.conf")
        );
    }

    #[test]
    fn exe_dir_from_a_path_argv0() {
        assert_eq!(
            exe_dir("/usr/local/bin/supervisord"),
            PathBuf::from("/usr/local/bin")
        );
    }
}
