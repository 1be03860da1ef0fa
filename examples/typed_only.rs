//! Profiles only the typed parse of a large history.json.
fn main() {
    let dir = std::env::args().nth(1).expect("DIR");
    let path = std::path::Path::new(&dir).join("history.json");
    let bytes = std::fs::read(&path).unwrap();
    let t = std::time::Instant::now();
    let l = genhist::store::index_file::parse_typed(&path, &bytes).unwrap();
    eprintln!("typed {:?} ({} entries)", t.elapsed(), l.entries.len());
}
