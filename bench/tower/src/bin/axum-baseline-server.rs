//! The bench-server routes on plain axum, without sessions (see `bench_tower::baseline`).
//! `--store` and the other session options are accepted and ignored, so the script starts it
//! like the other servers.

fn main() -> std::io::Result<()> {
    let args = bench_tower::Args::from_env();
    bench_tower::runtime(&args)?
        .block_on(bench_tower::serve(&args, bench_tower::baseline::routes()))
}
