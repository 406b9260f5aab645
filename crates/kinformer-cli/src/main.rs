//! The `kinformer` command-line tool.

fn main() {
    println!("kinformer: subcommands arrive with their issues");
}
