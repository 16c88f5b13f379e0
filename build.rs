fn main() {
    napi_build::setup();
    report_jpeg_simd();
}

/// mozjpeg-sys builds libjpeg-turbo's SIMD code for x86 only when nasm is on PATH, and its
/// portable C code otherwise, saying so only in its own build log: say it where users look.
fn report_jpeg_simd() {
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let nasm = std::process::Command::new("nasm").arg("-v").output();
    if (arch == "x86_64" || arch == "x86") && nasm.is_err() {
        println!(
            "cargo:warning=JPEG is built without SIMD (nasm is not on PATH) and resizes JPEGs \
             more slowly; for the fast build install nasm (apt-get install nasm, brew install \
             nasm), then run `cargo clean` and build again"
        );
    }
}
