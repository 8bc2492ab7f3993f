//! The `breakglass` binary: everything happens in the library's CLI front end.

fn main() -> std::process::ExitCode {
    breakglass::cli::main()
}
