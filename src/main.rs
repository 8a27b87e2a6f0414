/// mimalloc: the server allocates small, short-lived buffers per request, which glibc's allocator
/// serves markedly slower (a quarter of all instructions under load, measured with callgrind).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    movierec::app::main()
}
