//! Python's `getopt.getopt`: the option syntax and error texts Supervisor's
//! programs inherit.
//!
//! A hand-written parser rather than a derive-based one because users and
//! scripts depend on the exact messages (`option -x not recognized`), on
//! unique-prefix long options (`--conf=FILE`) and on parsing stopping at the
//! first non-option word (`supervisorctl status -x` passes `-x` on).

/// Options found, in order: the option as Python reports it (`-c`, or the
/// full `--configuration` for any unique prefix) and its argument (empty for flags).
pub type Opts = Vec<(String, String)>;

/// Parse `args` (without the program name). `short` is a getopt string such as
/// `"c:hn"` (a `:` after a letter means it takes an argument); `long` lists long
/// names, with a trailing `=` for those taking an argument.
/// Returns the options and the remaining arguments.
pub fn getopt(args: &[String], short: &str, long: &[&str]) -> Result<(Opts, Vec<String>), String> {
    let mut opts = Vec::new();
    let mut i = 0;
    while i < args.len() && args[i].starts_with('-') && args[i] != "-" {
        let arg = &args[i];
        i += 1;
        if arg == "--" {
            break;
        }
        if let Some(body) = arg.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let (takes_arg, full) = long_match(name, long)?;
            let value = match (takes_arg, inline) {
                (true, Some(v)) => v,
                (true, None) => {
                    let v = args
                        .get(i)
                        .ok_or_else(|| format!("option --{full} requires argument"))?;
                    i += 1;
                    v.clone()
                }
                (false, Some(_)) => {
                    return Err(format!("option --{full} must not have an argument"))
                }
                (false, None) => String::new(),
            };
            opts.push((format!("--{full}"), value));
        } else {
            let letters: Vec<char> = arg[1..].chars().collect();
            let mut j = 0;
            while j < letters.len() {
                let letter = letters[j];
                j += 1;
                if short_takes_arg(letter, short)? {
                    // The rest of this word is the argument, or else the next word.
                    let value = if j < letters.len() {
                        letters[j..].iter().collect()
                    } else {
                        let v = args
                            .get(i)
                            .ok_or_else(|| format!("option -{letter} requires argument"))?;
                        i += 1;
                        v.clone()
                    };
                    opts.push((format!("-{letter}"), value));
                    break;
                }
                opts.push((format!("-{letter}"), String::new()));
            }
        }
    }
    Ok((opts, args[i..].to_vec()))
}

fn short_takes_arg(letter: char, short: &str) -> Result<bool, String> {
    let chars: Vec<char> = short.chars().collect();
    match chars.iter().position(|&c| c == letter && c != ':') {
        Some(at) => Ok(chars.get(at + 1) == Some(&':')),
        None => Err(format!("option -{letter} not recognized")),
    }
}

/// An exact long name, or a unique prefix of one.
fn long_match(name: &str, long: &[&str]) -> Result<(bool, String), String> {
    let candidates: Vec<&str> = long
        .iter()
        .copied()
        .filter(|o| o.starts_with(name))
        .collect();
    if candidates.is_empty() {
        return Err(format!("option --{name} not recognized"));
    }
    if candidates.contains(&name) {
        return Ok((false, name.to_string()));
    }
    if candidates.contains(&format!("{name}=").as_str()) {
        return Ok((true, name.to_string()));
    }
    if candidates.len() > 1 {
        return Err(format!("option --{name} not a unique prefix"));
    }
    let only = candidates[0];
    Ok(match only.strip_suffix('=') {
        Some(stem) => (true, stem.to_string()),
        None => (false, only.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHORT: &str = "c:hnk";
    const LONG: &[&str] = &["configuration=", "nodaemon", "nocleanup", "help"];

    fn run(args: &[&str]) -> Result<(Opts, Vec<String>), String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        getopt(&args, SHORT, LONG)
    }

    fn opt(o: &str, v: &str) -> (String, String) {
        (o.to_string(), v.to_string())
    }

    #[test]
    fn short_options_with_separate_and_attached_arguments() {
        let (opts, rest) = run(&["-c", "a.conf", "-cb.conf"]).unwrap();
        assert_eq!(opts, vec![opt("-c", "a.conf"), opt("-c", "b.conf")]);
        assert!(rest.is_empty());
    }

    #[test]
    fn grouped_flags_and_a_trailing_argument_option() {
        let (opts, _) = run(&["-nkc", "x"]).unwrap();
        assert_eq!(opts, vec![opt("-n", ""), opt("-k", ""), opt("-c", "x")]);
    }

    #[test]
    fn long_options_by_unique_prefix_are_reported_by_full_name() {
        let (opts, _) = run(&["--conf=x", "--nod", "--configuration", "y"]).unwrap();
        assert_eq!(
            opts,
            vec![
                opt("--configuration", "x"),
                opt("--nodaemon", ""),
                opt("--configuration", "y")
            ]
        );
    }

    #[test]
    fn parsing_stops_at_the_first_word_and_after_double_dash() {
        let (opts, rest) = run(&["-n", "status", "-x"]).unwrap();
        assert_eq!(opts, vec![opt("-n", "")]);
        assert_eq!(rest, vec!["status", "-x"]);
        let (_, rest) = run(&["--", "-n"]).unwrap();
        assert_eq!(rest, vec!["-n"]);
        let (_, rest) = run(&["-"]).unwrap();
        assert_eq!(rest, vec!["-"]);
    }

    #[test]
    fn python_error_texts() {
        assert_eq!(run(&["-x"]).unwrap_err(), "option -x not recognized");
        assert_eq!(run(&["-c"]).unwrap_err(), "option -c requires argument");
        assert_eq!(
            run(&["--bogus"]).unwrap_err(),
            "option --bogus not recognized"
        );
        assert_eq!(
            run(&["--no"]).unwrap_err(),
            "option --no not a unique prefix"
        );
        assert_eq!(
            run(&["--configuration"]).unwrap_err(),
            "option --configuration requires argument"
        );
        assert_eq!(
            run(&["--help=1"]).unwrap_err(),
            "option --help must not have an argument"
        );
    }
}
