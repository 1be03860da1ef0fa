//! The `genhist` binary: parse the command line, hand over to the library.

use clap::Parser;

fn main() {
    let cli = genhist::cli::Cli::parse_from(genhist::cli::hoist_dir(std::env::args_os()));
    let code = match genhist::cli::main(cli) {
        Ok(code) => code,
        // `genhist list | head`: the reader is gone; nothing to say.
        Err(e) if genhist::cli::is_broken_pipe(&e) => 0,
        Err(e) => {
            // Error texts may quote ids and paths from the index.
            let text = format!("{e:#}");
            let code = genhist::cli::exit_code(&e);
            for line in text.lines() {
                eprintln!(
                    "{}{}",
                    if line == text.lines().next().unwrap_or_default() {
                        "genhist: "
                    } else {
                        ""
                    },
                    genhist::text::sanitize(line)
                );
            }
            code
        }
    };
    std::process::exit(code);
}
