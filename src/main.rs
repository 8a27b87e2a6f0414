/// mimalloc: the server allocates small, short-lived buffers per request, which glibc's allocator
/// serves markedly slower (a quarter of all instructions under load, measured with callgrind).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc 3's option enum (`mimalloc.h`); the -sys crate names only
/// the options common to versions 2 and 3.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long freed pages stay resident, in ms. mimalloc 3's default of 1 s let a file load's two
/// threads (reader and writer, each churning short-lived records) keep 72 MB at the peak of a
/// 1M-row load where the single-threaded load before them kept 61 MB; 50 ms keeps it at 56-58 MB
/// and costs about 2% of the load's time (`bench/etl_memory.sh`; 20 ms: 55 MB, 6%). mimalloc 2
/// used 10 ms. `MIMALLOC_PURGE_DELAY` still wins when set.
const PURGE_DELAY_MS: std::ffi::c_long = 50;

fn main() -> std::process::ExitCode {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mi_option_set is not thread-safe; no other thread exists yet.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, PURGE_DELAY_MS) };
    }
    movierec::app::main()
}
