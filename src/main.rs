use std::process::ExitCode;

use clap::Parser;

// `scan` allocates and frees small objects on every core (parsed JSON, report
// strings); glibc's allocator spent a quarter of the scan's time on that,
// much of it freeing on one thread what another allocated.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // A panic must never print a backtrace or the data it was handling (a token,
    // a secret): one generic line, exit 2.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "jwtai: internal error{at}; please report it (no token data is included in this message)"
        );
    }));
    let cli = match jwtai::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // Usage errors quote arguments back: a token or secret in the wrong
            // place must not reach the terminal or a CI log.
            eprint!("{}", jwtai::redact::free_text(&e.render().to_string()));
            return ExitCode::from(jwtai::exit::USAGE);
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    match std::panic::catch_unwind(|| jwtai::run(cli)) {
        Ok(Ok(status)) => ExitCode::from(status),
        Ok(Err(e)) => {
            eprintln!("jwtai: {}", jwtai::redact::free_text(&format!("{e:#}")));
            ExitCode::from(jwtai::exit::USAGE)
        }
        Err(_) => ExitCode::from(jwtai::exit::USAGE),
    }
}
