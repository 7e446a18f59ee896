//! The `tributary` command.

fn main() {
    println!("tributary");
}
