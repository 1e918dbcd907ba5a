use chrono::{Duration, TimeZone};

use super::*;
use crate::{HoldReason, SlaTarget, SlaUnit};

fn at(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2019, 11, 15, h, 0, 0).unwrap()
}

fn service(active: bool) -> Service {
    Service {
        code: ServiceCode::parse("trash-missed").unwrap(),
        name: "Trash - Missed by City".into(),
        description: None,
        group: Some("Trash".into()),
        keywords: vec![],
        department: Some(DepartmentCode::parse("public-works").unwrap()),
        attributes: vec![],
        sla: Some(SlaTarget {
            amount: 3,
            unit: SlaUnit::CalendarDays,
        }),
        sla_by_priority: Default::default(),
        category: None,
        active,
    }
}

fn new_request(description: &str) -> NewServiceRequest {
    NewServiceRequest {
        service_code: ServiceCode::parse("trash-missed").unwrap(),
        description: Some(description.into()),
        location: Location::default(),
        channel: Channel::Phone,
        priority: Priority::Normal,
        requester: None,
        attributes: vec![],
        media_url: None,
    }
}

fn opened(id: &str) -> ServiceRequest {
    let id = ServiceRequestId::parse(id).unwrap();
    ServiceRequest::open(
        id,
        new_request("bags left at curb"),
        &service(true),
        Actor::Resident,
        at(8),
    )
    .unwrap()
    .0
}

#[test]
fn opening_routes_to_the_department_and_sets_a_calendar_due_date() {
    let id = ServiceRequestId::parse("1").unwrap();
    let (req, events) = ServiceRequest::open(
        id,
        new_request("  bags  "),
        &service(true),
        Actor::Resident,
        at(8),
    )
    .unwrap();
    assert_eq!(req.status, Status::Open);
    assert_eq!(req.description.as_deref(), Some("bags"));
    assert_eq!(
        req.department.as_ref().map(|d| d.as_str()),
        Some("public-works")
    );
    assert_eq!(req.due_at, Some(at(8) + Duration::days(3)));
    let kinds: Vec<_> = events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(kinds, ["created", "routed"]);
}

#[test]
fn opening_refuses_broken_invariants() {
    let id = || ServiceRequestId::parse("1").unwrap();
    let open = |new, s: &Service| ServiceRequest::open(id(), new, s, Actor::Resident, at(8));
    assert_eq!(
        open(new_request("x"), &service(false)).unwrap_err(),
        DomainError::ServiceInactive("trash-missed".into())
    );
    let long = "x".repeat(MAX_DESCRIPTION_CHARS + 1);
    assert!(matches!(
        open(new_request(&long), &service(true)),
        Err(DomainError::DescriptionTooLong { actual, .. }) if actual == MAX_DESCRIPTION_CHARS + 1
    ));
    let mut other = new_request("x");
    other.service_code = ServiceCode::parse("graffiti").unwrap();
    assert_eq!(
        open(other, &service(true)).unwrap_err(),
        DomainError::UnknownService("graffiti".into())
    );
}

#[test]
fn every_change_returns_its_event_and_touches_updated_at() {
    let mut req = opened("1");
    let e = req
        .change_status(Status::InProgress, Actor::Staff("ann".into()), at(9))
        .unwrap();
    assert_eq!(
        e.kind,
        EventKind::StatusChanged {
            from: Status::Open,
            to: Status::InProgress
        }
    );
    assert_eq!(req.updated_at, at(9));
    let hold = Status::OnHold(HoldReason::WaitingOnResident);
    req.change_status(hold, Actor::Staff("ann".into()), at(10))
        .unwrap();
    let done = Status::Closed(ClosureReason::Resolved);
    req.change_status(done, Actor::Staff("ann".into()), at(11))
        .unwrap();
    assert_eq!(req.closed_at, Some(at(11)));
}

#[test]
fn closed_requests_only_reopen() {
    let mut req = opened("1");
    req.change_status(
        Status::Closed(ClosureReason::Resolved),
        Actor::System,
        at(9),
    )
    .unwrap();
    assert!(matches!(
        req.change_status(Status::Open, Actor::System, at(10)),
        Err(DomainError::InvalidTransition { .. })
    ));
    assert_eq!(
        req.set_priority(Priority::High, Actor::System, at(10)),
        Err(DomainError::Closed)
    );
    assert_eq!(
        req.reopen("  ", Actor::Resident, at(10)),
        Err(DomainError::Empty {
            field: "reopen reason"
        })
    );
    let e = req
        .reopen("pothole is back", Actor::Resident, at(10))
        .unwrap();
    assert_eq!(e.kind.name(), "reopened");
    assert_eq!((req.status, req.closed_at), (Status::Open, None));
    assert_eq!(
        req.reopen("again", Actor::Resident, at(11)),
        Err(DomainError::NotClosed(Status::Open))
    );
}

#[test]
fn same_status_is_not_a_change() {
    let mut req = opened("1");
    assert_eq!(
        req.change_status(Status::Open, Actor::System, at(9)),
        Err(DomainError::NoChange(Status::Open))
    );
}

#[test]
fn first_assignment_is_routing_then_reassignment_needs_a_reason() {
    let mut req = opened("1");
    req.department = None;
    let water = DepartmentCode::parse("water").unwrap();
    let e = req
        .assign(
            Some(water.clone()),
            None,
            "",
            Actor::Staff("ann".into()),
            at(9),
        )
        .unwrap();
    assert_eq!(e.kind.name(), "routed");
    let pw = DepartmentCode::parse("public-works").unwrap();
    assert_eq!(
        req.assign(
            Some(pw.clone()),
            None,
            " ",
            Actor::Staff("ann".into()),
            at(9)
        ),
        Err(DomainError::Empty {
            field: "reassignment reason"
        })
    );
    let e = req
        .assign(
            Some(pw),
            None,
            "not a water leak",
            Actor::Staff("ann".into()),
            at(9),
        )
        .unwrap();
    assert!(
        matches!(e.kind, EventKind::Reassigned { from_department: Some(ref d), .. } if *d == water)
    );
}

#[test]
fn merge_closes_the_child_and_counts_on_the_parent() {
    let mut parent = opened("1");
    let mut child = opened("2");
    assert_eq!(
        parent
            .clone()
            .merge_into(&mut parent, Actor::System, at(9))
            .unwrap_err(),
        DomainError::MergeIntoSelf
    );
    let (child_events, parent_event) = child
        .merge_into(&mut parent, Actor::Staff("ann".into()), at(9))
        .unwrap();
    assert_eq!(child.status, Status::Closed(ClosureReason::Duplicate));
    assert_eq!(child.parent_id, Some(parent.id.clone()));
    assert_eq!(child_events.len(), 2);
    assert_eq!(
        parent_event.kind,
        EventKind::DuplicateMerged {
            child: child.id.clone()
        }
    );
    // A third report must go to the real parent, not to the merged child.
    let mut third = opened("3");
    assert_eq!(
        third
            .merge_into(&mut child, Actor::System, at(10))
            .unwrap_err(),
        DomainError::ParentIsMerged("2".into())
    );
}

#[test]
fn direct_close_as_duplicate_is_refused() {
    let mut req = opened("1");
    assert!(
        req.change_status(
            Status::Closed(ClosureReason::Duplicate),
            Actor::System,
            at(9)
        )
        .is_err()
    );
}

#[test]
fn history_becomes_events_at_their_real_times() {
    let h = HistoricalRequest {
        id: ServiceRequestId::parse("2019193337").unwrap(),
        service_code: ServiceCode::parse("storm-drain").unwrap(),
        status: Status::Closed(ClosureReason::Resolved),
        priority: Priority::Normal,
        description: None,
        location: Location::default(),
        channel: Channel::Phone,
        department: Some(DepartmentCode::parse("water-services").unwrap()),
        assignee: Some("Line Maintenance".into()),
        due_at: None,
        created_at: at(8),
        closed_at: Some(at(20)),
    };
    let (req, events) = ServiceRequest::from_history(h, "kansas-city").unwrap();
    let seen: Vec<_> = events.iter().map(|e| (e.kind.name(), e.at)).collect();
    assert_eq!(
        seen,
        [
            ("created", at(8)),
            ("routed", at(8)),
            ("status_changed", at(20))
        ]
    );
    assert_eq!((req.updated_at, req.closed_at), (at(20), Some(at(20))));
    assert!(
        events
            .iter()
            .all(|e| e.actor == Actor::Import("kansas-city".into()))
    );
}

#[test]
fn refreshing_from_the_source_follows_it_and_logs_what_changed() {
    let mut ours = opened("7");
    let mut fresh = ours.clone();
    assert_eq!(
        ours.refresh_from_source(&fresh, "feed"),
        None,
        "nothing new"
    );

    fresh.status = Status::Closed(ClosureReason::Resolved);
    fresh.closed_at = Some(at(12));
    fresh.updated_at = at(13);
    let events = ours.refresh_from_source(&fresh, "feed").unwrap();
    assert_eq!(ours.status, fresh.status);
    assert_eq!(ours.closed_at, Some(at(12)));
    assert_eq!(ours.updated_at, at(13));
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].at,
        at(12),
        "the change is dated when the source closed it"
    );
    assert_eq!(events[0].actor, Actor::Import("feed".into()));
    assert!(matches!(
        events[0].kind,
        EventKind::StatusChanged {
            from: Status::Open,
            ..
        }
    ));

    // A newer description alone changes the state without a status event.
    fresh.description = Some("bags and a sofa".into());
    assert_eq!(ours.refresh_from_source(&fresh, "feed"), Some(vec![]));
    assert_eq!(ours.description.as_deref(), Some("bags and a sofa"));

    // Open again at the source: a reopen.
    fresh.status = Status::Open;
    fresh.closed_at = None;
    fresh.updated_at = at(15);
    let events = ours.refresh_from_source(&fresh, "feed").unwrap();
    assert!(matches!(events[0].kind, EventKind::Reopened { .. }));
    assert_eq!(events[0].at, at(15));
}
