fn main() {
    std::process::exit(tlsdoctor::cli::main());
}
