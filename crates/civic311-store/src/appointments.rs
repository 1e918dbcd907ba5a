//! Bookable services: schedules, free places per day, and bookings. A booking at intake is made
//! in the same transaction as the request (see `sql/intake.rs`): a resident never gets a request
//! without its day, nor a day without its request.

use chrono::{DateTime, NaiveDate, Utc};
use civic311_domain::appointments::appointment_attribute;
use civic311_domain::{
    Actor, AppointmentSchedule, ServiceCode, ServiceRequest, ServiceRequestId, Slot,
};
use serde::Serialize;

use crate::pool::dispatch;
use crate::{Result, Store, StoreError};

/// A request's booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Appointment {
    pub request_id: String,
    pub service_code: String,
    pub zone: String,
    pub day: NaiveDate,
    /// `booked` or `cancelled`.
    pub state: String,
}

impl Store {
    /// Makes `schedule.service` bookable (or changes its schedule): the service gains the
    /// `appointment_date` question. Bookings already made keep their day.
    pub async fn set_appointment_schedule(&self, schedule: &AppointmentSchedule) -> Result<()> {
        schedule.check()?;
        let mut service =
            self.service(&schedule.service)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    what: "service",
                    id: schedule.service.to_string(),
                })?;
        let question = appointment_attribute();
        if !service.attributes.iter().any(|a| a.code == question.code) {
            service.attributes.push(question);
            self.upsert_service(&service).await?;
        }
        let json = serde_json::to_string(schedule).map_err(StoreError::corrupt)?;
        dispatch!(
            self,
            write,
            set_appointment_schedule(schedule.service.as_str(), &json)
        )
    }

    pub async fn appointment_schedule(
        &self,
        service: &ServiceCode,
    ) -> Result<Option<AppointmentSchedule>> {
        dispatch!(self, read, appointment_schedule(service.as_str()))
    }

    /// The days open to booking in `zone` at `now`, with their places and how many are taken.
    pub async fn appointment_slots(
        &self,
        schedule: &AppointmentSchedule,
        zone: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Slot>> {
        let open = schedule.days_open(zone, now);
        let (Some(first), Some(last)) = (open.first(), open.last()) else {
            return Ok(Vec::new());
        };
        let taken = dispatch!(
            self,
            read,
            booked_days(schedule.service.as_str(), zone, first.0, last.0)
        )?;
        Ok(open
            .into_iter()
            .map(|(day, capacity)| Slot {
                day,
                capacity,
                booked: taken.iter().find(|(d, _)| *d == day).map_or(0, |(_, n)| *n),
            })
            .collect())
    }

    pub async fn appointment(&self, request: &ServiceRequestId) -> Result<Option<Appointment>> {
        dispatch!(self, read, appointment(request.as_str()))
    }

    /// Moves a request's booking to `day` (a place is taken there before the old one is given
    /// back), or books one for a request without. Refused when `day` is full or not bookable.
    pub async fn reschedule_appointment(
        &self,
        request: &ServiceRequestId,
        day: NaiveDate,
        reason: &str,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<(Appointment, ServiceRequest)> {
        dispatch!(
            self,
            write,
            reschedule_appointment(request.as_str(), day, reason, actor, now)
        )
    }

    /// Cancels a request's booking and gives its place back.
    pub async fn cancel_appointment(
        &self,
        request: &ServiceRequestId,
        reason: &str,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<(Appointment, ServiceRequest)> {
        dispatch!(
            self,
            write,
            cancel_appointment(request.as_str(), reason, actor, now)
        )
    }
}
