//! Rewrites the README's generated tables (keys, `:` commands) from the key
//! and command tables; `tests/ui.rs` checks they are equal.
//!
//! usage: cargo run --example readme_tables

fn replace(text: &str, name: &str, table: &str) -> String {
    let start_tag = format!("<!-- {name}:start -->\n");
    let end_tag = format!("<!-- {name}:end -->");
    let start = text.find(&start_tag).expect("start tag") + start_tag.len();
    let end = text.find(&end_tag).expect("end tag");
    format!("{}{table}{}", &text[..start], &text[end..])
}

fn main() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let text = std::fs::read_to_string(path).unwrap();
    let text = replace(&text, "keys", &genhist::ui::keymap::markdown_table());
    let text = replace(&text, "commands", &genhist::ui::command::markdown_table());
    std::fs::write(path, text).unwrap();
}
