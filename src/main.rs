//! The `genhist` binary: parse the command line, hand over to the library.

use clap::Parser;

fn main() {
    let cli = genhist::cli::Cli::parse();
    let code = match genhist::cli::main(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("genhist: {e:#}");
            1
        }
    };
    std::process::exit(code);
}
