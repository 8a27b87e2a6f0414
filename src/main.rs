fn main() -> std::process::ExitCode {
    movierec::cli::main()
}
