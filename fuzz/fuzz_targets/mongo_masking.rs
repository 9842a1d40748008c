//! MongoDB command masking: no panic on any document, bounded text, and
//! nothing of a value shows: a command and the same command with every
//! value replaced mask to the same text. Only the collection name (the
//! command field's own string) is kept.
#![no_main]

use census_mongodb::fuzzing::bson::{Bson, Document};
use census_mongodb::fuzzing::masked_text;
use libfuzzer_sys::fuzz_target;

/// `value` with every leaf replaced by one fixed value of the same type.
fn replaced(value: &Bson) -> Bson {
    match value {
        Bson::Document(doc) => Bson::Document(replaced_document(doc, None)),
        Bson::Array(items) => Bson::Array(items.iter().map(replaced).collect()),
        Bson::String(_) => Bson::String("s".into()),
        Bson::Int32(_) => Bson::Int32(0),
        Bson::Int64(_) => Bson::Int64(0),
        Bson::Double(_) => Bson::Double(0.0),
        Bson::Boolean(_) => Bson::Boolean(false),
        _ => Bson::Null,
    }
}

fn replaced_document(doc: &Document, keep: Option<&str>) -> Document {
    doc.iter()
        .map(|(key, value)| {
            let value = match value {
                Bson::String(_) if Some(key.as_str()) == keep => value.clone(),
                value => replaced(value),
            };
            (key.clone(), value)
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(command) = Document::from_reader(data) else {
        return;
    };
    let Some(name) = command.keys().next().cloned() else {
        return;
    };
    let text = masked_text(&name, &command);
    assert!(text.len() <= 2048 + '…'.len_utf8(), "{} bytes", text.len());
    let other = masked_text(&name, &replaced_document(&command, Some(&name)));
    assert_eq!(text, other, "a value shows through");
});
