use civic311_domain::{AttributeDatatype, AttributeDefinition, AttributeOption, SlaUnit};
use civic311_testkit::{TestDb, both_backends};

use crate::{code, seed_catalog};

both_backends!(catalog_round_trips_with_attributes_and_sla);

async fn catalog_round_trips_with_attributes_and_sla(db: &TestDb) {
    let store = &db.store;
    seed_catalog(store).await;
    let mut pothole = store.service(&code("pothole")).await.unwrap().unwrap();
    assert_eq!(
        pothole.sla.map(|s| (s.amount, s.unit)),
        Some((7, SlaUnit::CalendarDays))
    );
    pothole.attributes.push(AttributeDefinition {
        code: "SIZE".into(),
        variable: true,
        datatype: AttributeDatatype::Singlevaluelist,
        required: true,
        order: 1,
        description: "How large is it?".into(),
        datatype_description: None,
        values: vec![AttributeOption {
            key: "S".into(),
            name: "Smaller than a plate".into(),
        }],
    });
    store.upsert_service(&pothole).await.unwrap();
    assert_eq!(
        store.service(&code("pothole")).await.unwrap().unwrap(),
        pothole
    );
    assert_eq!(store.services().await.unwrap().len(), 2);
    assert_eq!(store.departments().await.unwrap()[0].name, "Public Works");
    assert!(store.service(&code("nope")).await.unwrap().is_none());
}
