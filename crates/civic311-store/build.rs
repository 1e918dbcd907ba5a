// The migrations are embedded by `sqlx::migrate!` (schema.rs): a migration added without a
// change to the crate's code must still rebuild it (sqlx's advice).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
