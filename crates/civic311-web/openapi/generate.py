"""Writes openapi.json, the OpenAPI 3.1 document of civic311's HTTP API (served at /openapi.json).

Run: python3 crates/civic311-web/openapi/generate.py > crates/civic311-web/openapi/openapi.json
A test checks the committed openapi.json is this script's output; schemathesis checks the server
against it.
"""
import json
S = lambda **k: dict(type="string", **k)
NS = lambda **k: {"type": ["string", "null"], **k}
DT = {"type": "string", "format": "date-time"}
# What the server accepts as a W3C datetime: an offset or Z, optional seconds and fraction, or a
# bare date; without a zone it is the city's local time. Empty means absent.
DTIN = {"type": "string", "pattern": "^(\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:?\\d{2})?)?)?$",
        "description": "W3C datetime, e.g. 2019-10-01T08:30:00-05:00; 2019-10-01 and times without a zone are the city's local time"}
NDT = {"type": ["string", "null"], "format": "date-time"}
ref = lambda n: {"$ref": f"#/components/schemas/{n}"}
def obj(props, required=None, extra=False):
    o = {"type": "object", "properties": props, "required": required if required is not None else list(props)}
    if not extra:
        o["additionalProperties"] = False
    return o

schemas = {
    "Open311Error": {"type": "array", "minItems": 1, "items": obj({"code": {"type": "integer"}, "description": S(minLength=1)})},
    "Discovery": obj({
        "changeset": DT, "contact": S(), "key_service": S(),
        "endpoints": {"type": "array", "items": obj({
            "specification": S(), "url": S(), "changeset": DT, "type": S(enum=["production", "test"]),
            "formats": {"type": "array", "items": S()}})}}),
    "Service": obj({
        "service_code": S(minLength=1), "service_name": S(), "description": NS(), "metadata": {"type": "boolean"},
        "type": S(enum=["realtime", "batch", "blackbox"]), "keywords": NS(), "group": NS()}),
    "ServiceDefinition": obj({
        "service_code": S(minLength=1),
        "attributes": {"type": "array", "items": obj({
            "variable": {"type": "boolean"}, "code": S(minLength=1),
            "datatype": S(enum=["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]),
            "required": {"type": "boolean"}, "datatype_description": NS(), "order": {"type": "integer", "minimum": 0},
            "description": S(),
            "values": {"type": "array", "items": obj({"key": S(), "name": S()})}})}}),
    "ServiceRequest": obj({
        "service_request_id": S(minLength=1), "status": S(enum=["open", "closed"]), "status_notes": NS(),
        "service_name": NS(), "service_code": S(minLength=1), "description": NS(), "agency_responsible": NS(),
        "service_notice": NS(), "requested_datetime": DT, "updated_datetime": DT, "expected_datetime": NDT,
        "address": NS(), "address_id": NS(), "zipcode": NS(),
        "lat": {"type": ["number", "null"], "minimum": -90, "maximum": 90},
        "long": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
        "media_url": NS(),
        "extended_attributes": obj({
            "channel": S(), "detailed_status": S(enum=["open", "in_progress", "on_hold", "closed"]),
            "status_reason": NS(), "priority": S(enum=["low", "normal", "high", "urgent"]),
            "duplicate": {"type": "boolean"}, "parent_service_request_id": NS(), "closed_datetime": NDT,
            "areas": {"type": "array", "items": obj({"layer": S(), "id": S()})}}),
        "notes": {"type": "array", "items": obj({"datetime": DT, "type": S(), "summary": S(), "description": NS()})},
    }, required=["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                 "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                 "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]),
    "ServiceRequests": {"type": "array", "items": ref("ServiceRequest")},
    "Created": {"type": "array", "minItems": 1, "maxItems": 1, "items": obj({
        "service_request_id": S(minLength=1), "token": S(minLength=1), "service_notice": NS(), "account_id": NS()})},
    "Token": {"type": "array", "minItems": 1, "maxItems": 1, "items": obj({"service_request_id": NS(), "token": S()})},
    "Update": obj({
        "update_id": S(minLength=1), "service_request_id": S(minLength=1),
        "status": S(enum=["OPEN", "IN_PROGRESS", "ACTION_SCHEDULED", "INVESTIGATING", "FIXED", "DUPLICATE",
                          "NOT_COUNCILS_RESPONSIBILITY", "NO_FURTHER_ACTION", "CLOSED"]),
        "updated_datetime": DT, "description": S(), "media_url": NS()}),
    "Updates": {"type": "array", "items": ref("Update")},
    "UpdateCreated": {"type": "array", "minItems": 1, "items": obj({"update_id": NS()})},
    "NewRequestForm": {
        "type": "object",
        "properties": {
            "api_key": S(), "jurisdiction_id": S(), "service_code": S(),
            "lat": {"type": "number"}, "long": {"type": "number"},
            "address_string": S(), "address_id": S(), "email": S(), "device_id": S(), "account_id": S(),
            "first_name": S(), "last_name": S(), "phone": S(), "description": S(maxLength=4000), "media_url": S(),
        },
        "required": ["service_code"],
        "description": "Attribute answers go in extra fields: `attribute[CODE]=value`, repeated or as "
                       "`attribute[CODE][]=value` for multivaluelist.",
        "additionalProperties": S(),
    },
    "NewUpdateForm": {
        "type": "object",
        "properties": {"api_key": S(), "jurisdiction_id": S(), "service_request_id": S(), "description": S(),
                       "status": S(), "update_id": S(), "updated_datetime": S(), "email": S(),
                       "first_name": S(), "last_name": S(), "media_url": S()},
        "required": ["service_request_id", "description"],
    },
    "ApiError": obj({"error": S(minLength=1)}),
}

def err(*codes):
    desc = {400: "A parameter is missing or malformed, or the request breaks a rule", 403: "The api_key is not valid",
            404: "Unknown jurisdiction, service, request, token or format", 405: "Method not allowed",
            413: "Too large", 415: "Unsupported body or media type"}
    return {str(c): {"description": desc[c], "content": {"application/json": {"schema": ref("Open311Error")}}} for c in codes}

def xml_err(*codes):
    return {str(c): {"description": "An Open311 <errors> document", "content": {"text/xml": {"schema": S()}}} for c in codes}

jur = {"name": "jurisdiction_id", "in": "query", "schema": S(), "description": "Optional on a single-city server; another city's id gets 404."}
# Empty query values count as absent (clients send `page=&status=`).
q = lambda name, schema, d="": {"name": name, "in": "query", "schema": schema, "description": d, "allowEmptyValue": True}
path_p = lambda name, d, ex=None: {"name": name, "in": "path", "required": True, "schema": S(pattern="^[A-Za-z0-9._:-]+$", minLength=1), "description": d, **({"example": ex} if ex else {})}
ok = lambda s, d: {"200": {"description": d, "content": {"application/json": {"schema": ref(s)}}}}
okx = lambda d: {"200": {"description": d, "content": {"text/xml": {"schema": S()}}}}

list_params = [jur,
    q("service_request_id", S(), "Comma-separated ids; overrides every other argument"),
    q("service_code", S(), "Comma-separated service codes"),
    q("status", S(pattern="^(\\s*([oO][pP][eE][nN]|[cC][lL][oO][sS][eE][dD])\\s*(,\\s*([oO][pP][eE][nN]|[cC][lL][oO][sS][eE][dD])\\s*)*)?$"), "open, closed or both, comma-separated"),
    q("start_date", DTIN, "Earliest requested_datetime (W3C). Without dates: the last 90 days."),
    q("end_date", DTIN, "Latest requested_datetime, inclusive"),
    q("updated_after", DTIN, "Only requests updated after this time (sync)"),
    q("updated_before", DTIN, "Only requests updated before this time"),
    q("page", {"type": "integer", "minimum": 1, "maximum": 4294967295}, "Page number, from 1"),
    q("page_size", {"type": "integer", "minimum": 1, "maximum": 500}, "Default 50, at most 500"),
    q("extensions", {"type": "boolean"}, "Chicago-style extended_attributes and notes"),
]
form_body = {"required": True, "content": {
    "application/x-www-form-urlencoded": {"schema": ref("NewRequestForm")},
    "multipart/form-data": {"schema": {"allOf": [ref("NewRequestForm"), {"type": "object", "properties": {"media": {"type": "string", "format": "binary", "description": "JPEG, PNG, GIF or WebP, at most 5 MB"}}}]}}}}
upd_body = {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": ref("NewUpdateForm")}}}

paths = {}
for ext, is_xml in (("json", False), ("xml", True)):
    O = (lambda s, d: okx(d)) if is_xml else ok
    E = xml_err if is_xml else err
    t = "Open311 (XML)" if is_xml else "Open311"
    paths[f"/open311/v2/discovery.{ext}"] = {"get": {"tags": [t], "operationId": f"discovery_{ext}", "summary": "Where the endpoint is and what it speaks", "parameters": [jur], "responses": {**O("Discovery", "Discovery"), **E(404)}}}
    paths[f"/open311/v2/services.{ext}"] = {"get": {"tags": [t], "operationId": f"services_{ext}", "summary": "The service catalog", "parameters": [jur], "responses": {**O("Service" if False else "Services", "Active services"), **E(404)}}}
    paths[f"/open311/v2/services/{{service_code}}.{ext}"] = {"get": {"tags": [t], "operationId": f"service_definition_{ext}", "summary": "A service's questions (attributes)", "parameters": [path_p("service_code", "Service code", "streets-roadways-alleys-pothole-district-2"), jur], "responses": {**O("ServiceDefinition", "The definition"), **E(404)}}}
    paths[f"/open311/v2/requests.{ext}"] = {
        "get": {"tags": [t], "operationId": f"list_requests_{ext}", "summary": "Service requests, newest first", "parameters": list_params, "responses": {**O("ServiceRequests", "A page of requests"), **E(400, 404)}},
        "post": {"tags": [t], "operationId": f"create_request_{ext}", "summary": "File a service request", "parameters": [jur], "requestBody": form_body, "responses": {**O("Created", "The new request's id and token"), **E(400, 403, 404, 413, 415)}}}
    paths[f"/open311/v2/requests/{{service_request_id}}.{ext}"] = {"get": {"tags": [t], "operationId": f"get_request_{ext}", "summary": "One request", "parameters": [path_p("service_request_id", "Request id", "2019193337"), jur, q("extensions", {"type": "boolean"})], "responses": {**O("ServiceRequests", "A one-element list"), **E(400, 404)}}}
    paths[f"/open311/v2/tokens/{{token}}.{ext}"] = {"get": {"tags": [t], "operationId": f"token_{ext}", "summary": "The request a token stands for", "parameters": [path_p("token", "Token from POST requests"), jur], "responses": {**O("Token", "The id (null while pending)"), **E(404)}}}
    paths[f"/open311/v2/servicerequestupdates.{ext}"] = {
        "get": {"tags": [t], "operationId": f"list_updates_{ext}", "summary": "Status changes and public comments, oldest first (mySociety)", "parameters": [jur, q("start_date", DTIN), q("end_date", DTIN), q("after_update_id", {"type": "integer"}, "Only updates after this update_id"), q("page_size", {"type": "integer", "minimum": 1, "maximum": 1000})], "responses": {**O("Updates", "Updates"), **E(400, 404)}},
        "post": {"tags": [t], "operationId": f"create_update_{ext}", "summary": "A resident's comment; status=OPEN reopens a closed request", "parameters": [jur], "requestBody": upd_body, "responses": {**O("UpdateCreated", "The update's id"), **E(400, 403, 404, 413, 415)}}}
schemas["Services"] = {"type": "array", "items": ref("Service")}

aerr = lambda *codes: {str(c): {"description": "Error", "content": {"application/json": {"schema": ref("ApiError")}}} for c in codes}
anyobj = lambda d: {"200": {"description": d, "content": {"application/json": {"schema": {"type": "object"}}}}}
paths["/health"] = {"get": {"tags": ["API"], "operationId": "health", "summary": "Liveness, database and schema version", "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": obj({"status": S(enum=["ok"]), "database": S(enum=["sqlite", "postgres"]), "schema_version": {"type": "integer"}})}}}}}}
paths["/api/v1/requests"] = {"get": {"tags": ["API"], "operationId": "api_requests", "summary": "Requests, newest first, without personal data", "parameters": [
    q("status", S(), "open, in_progress, on_hold, closed; comma-separated"), q("service_code", S()),
    q("page", {"type": "integer", "minimum": 1}), q("page_size", {"type": "integer", "minimum": 1, "maximum": 500})],
    "responses": {"200": {"description": "A page", "content": {"application/json": {"schema": obj({"total": {"type": "integer"}, "page": {"type": "integer"}, "page_size": {"type": "integer"}, "requests": {"type": "array", "items": {"type": "object"}}})}}}, **aerr(400)}}}
paths["/api/v1/requests/{id}"] = {"get": {"tags": ["API"], "operationId": "api_request", "summary": "One request with its public history", "parameters": [path_p("id", "Request id", "2019193337")], "responses": {"200": {"description": "The request", "content": {"application/json": {"schema": obj({"request": {"type": "object"}, "history": {"type": "array"}})}}}, **aerr(400, 404)}}}
paths["/api/v1/requests/similar"] = {"get": {"tags": ["API"], "operationId": "api_requests_similar", "summary": "Before filing: the requests a report most likely duplicates (for a 'me too')",
    "parameters": [{"name": "service_code", "in": "query", "required": True, "schema": S()}, {"name": "lat", "in": "query", "schema": {"type": "number"}},
                   {"name": "long", "in": "query", "schema": {"type": "number"}}, {"name": "address", "in": "query", "schema": S()}, {"name": "description", "in": "query", "schema": S()}],
    "responses": {**anyobj("Suggestions with their scores, best first"), **aerr(400, 404)}}}
paths["/api/v1/requests/{id}/duplicates"] = {"get": {"tags": ["API"], "operationId": "api_request_duplicates", "summary": "Earlier requests this one most likely duplicates, best first", "parameters": [path_p("id", "Request id", "2019193337")], "responses": {"200": {"description": "Suggestions with their scores", "content": {"application/json": {"schema": obj({
    "request_id": S(), "rules": obj({"radius_m": {"type": "number"}, "window_days": {"type": "integer"}, "grace_days": {"type": "integer"}, "min_score": {"type": "number"}}),
    "suggestions": {"type": "array", "items": obj({"suggestion": obj({"id": S(), "score": {"type": "number", "minimum": 0, "maximum": 1}, "distance_m": {"type": ["number", "null"]}, "same_service": {"type": "boolean"}, "same_address": {"type": "boolean"}, "open": {"type": "boolean"}}), "request": {"type": "object"}})}})}}}, **aerr(400, 404)}}}
# The staff API: a staff key as a bearer token.
staff_op = lambda op, summary, body=None: {
    "tags": ["Staff API"], "operationId": op, "summary": summary, "security": [{"staffKey": []}],
    "parameters": [path_p("id", "Request id", "2019193337")],
    **({"requestBody": {"required": True, "content": {"application/json": {"schema": body}}}} if body else {}),
    "responses": {**anyobj("The request after the change" if body else "The request with its requester and whole history"), **aerr(400, 401, 403, 404, 409, 422)}}
version = {"type": ["integer", "null"], "description": "the version you changed; 409 if the request changed since"}
staff_status = {"oneOf": [
    obj({"state": S(enum=["open", "in_progress"])}, ["state"]),
    obj({"state": S(enum=["on_hold"]), "reason": S(enum=["waiting_on_resident", "appointment_scheduled", "waiting_on_third_party"])}),
    obj({"state": S(enum=["closed"]), "reason": S(enum=["resolved", "duplicate", "cancelled", "no_action_needed", "referred", "unable_to_locate"])})]}
paths["/api/v1/staff/requests"] = {"post": {
    "tags": ["Staff API"], "operationId": "staff_file", "summary": "File a request for a caller (any service); answers with likely duplicates", "security": [{"staffKey": []}],
    "requestBody": {"required": True, "content": {"application/json": {"schema": obj({
        "service_code": S(), "channel": S(enum=["phone", "web", "mobile_app", "email", "walk_in", "fax", "voicemail", "social", "chat", "open311_api", "self_generated", "other"]),
        "priority": S(enum=["low", "normal", "high", "urgent"]), "description": NS(), "lat": {"type": ["number", "null"]}, "long": {"type": ["number", "null"]}, "address": NS(),
        "requester": {"type": ["object", "null"]}, "attributes": {"type": "array", "items": obj({"code": S(), "values": {"type": "array", "items": S()}})}, "appointment_date": NS()}, ["service_code", "channel"])}}},
    "responses": {**anyobj("The request filed and its likely duplicates"), **aerr(400, 401, 403, 404, 409, 422)}}}
paths["/api/v1/staff/requests/{id}"] = {"get": staff_op("staff_request", "One request as staff see it: requester, whole history, number of reports")}
paths["/api/v1/staff/requests/{id}/status"] = {"post": staff_op("staff_status", "Change the status (closing needs a reason)", obj({"status": staff_status, "version": version}, ["status"]))}
paths["/api/v1/staff/requests/{id}/assign"] = {"post": staff_op("staff_assign", "Give the request to a department and/or person, saying why", obj({"department": NS(), "assignee": NS(), "reason": S(), "version": version}, ["reason"]))}
paths["/api/v1/staff/requests/{id}/notes"] = {"post": staff_op("staff_note", "Add a note, internal or public", obj({"text": S(), "public": {"type": "boolean"}, "version": version}, ["text"]))}
paths["/api/v1/staff/requests/{id}/reopen"] = {"post": staff_op("staff_reopen", "Reopen a closed request, saying why", obj({"reason": S(), "version": version}, ["reason"]))}
paths["/api/v1/staff/requests/{id}/reclassify"] = {"post": staff_op("staff_reclassify", "File the request under the right service; the due date is recomputed and logged", obj({"service_code": S(), "reason": S(), "version": version}, ["service_code", "reason"]))}
paths["/api/v1/staff/requests/{id}/merge"] = {"post": staff_op("staff_merge", "Merge this request into its parent as a duplicate", obj({"parent": S()}))}
paths["/api/v1/staff/requests/{id}/work-orders"] = {
    "get": staff_op("staff_work_orders", "The request's work orders in field systems and their states"),
    "post": staff_op("staff_order_work", "Ask a configured field system for work on the request (queued in the outbox, delivered at least once)", obj({"system": S(), "instructions": NS()}, ["system"]))}
paths["/api/v1/staff/requests/{id}/appointment"] = {"post": staff_op("staff_reschedule", "Move the request's booking to another day (or book one); a full day refuses the move", obj({"day": S(format="date"), "reason": S()}, ["day"]))}
paths["/api/v1/staff/requests/{id}/appointment/cancel"] = {"post": staff_op("staff_cancel_appointment", "Cancel the request's booking; its place goes back to the day", obj({"reason": S()}, ["reason"]))}
staff_plain = lambda op, summary, body=None: {k: v for k, v in staff_op(op, summary, body).items() if k != "parameters"}
sla_t = {"type": ["object", "null"], "properties": {"amount": {"type": "integer", "minimum": 1}, "unit": S(enum=["calendar_days", "business_days", "business_hours"])}, "required": ["amount", "unit"], "additionalProperties": False}
catalog_doc = obj({
    "departments": {"type": "array", "items": obj({"code": S(), "name": S(), "email": NS(), "phone": NS()}, ["code", "name"])},
    "services": {"type": "array", "items": obj({"code": S(), "name": S(), "description": NS(), "group": NS(), "keywords": {"type": "array", "items": S()},
        "department": NS(), "attributes": {"type": "array", "items": {"type": "object"}}, "sla": sla_t,
        "sla_by_priority": {"type": "object", "additionalProperties": sla_t}, "active": {"type": "boolean"}}, ["code", "name"])}}, [])
paths["/api/v1/staff/requests/{id}/priority"] = {"post": staff_op("staff_priority", "Change the priority; the due date follows the service's target for it", obj({"priority": S(enum=["low", "normal", "high", "urgent"]), "version": version}, ["priority"]))}
paths["/api/v1/staff/requests/{id}/follow-ups"] = {"post": staff_op("staff_open_follow_up", "Put the request in the call-back queue, saying why", obj({"note": S()}))}
paths["/api/v1/staff/follow-ups"] = {"get": {**staff_plain("staff_follow_ups", "The call-back queue: open tasks oldest first, or the latest done"),
    "parameters": [{"name": "state", "in": "query", "schema": S(enum=["open", "done"])}]}}
paths["/api/v1/staff/metrics"] = {"get": {"tags": ["Staff API"], "operationId": "staff_metrics", "security": [{"staffKey": []}],
    "summary": "Volume, time to close, backlog and SLA attainment of the requests created in a period (docs/METRICS.md)",
    "parameters": [{"name": "from", "in": "query", "schema": DTIN}, {"name": "to", "in": "query", "schema": DTIN},
                   {"name": "service_code", "in": "query", "schema": S(), "description": "comma-separated"},
                   {"name": "department", "in": "query", "schema": S()},
                   {"name": "area", "in": "query", "schema": S(), "description": "LAYER:AREA"},
                   {"name": "now", "in": "query", "schema": DTIN}, {"name": "include_self_generated", "in": "query", "schema": {"type": "boolean"}}],
    "responses": {"200": {"description": "The summary", "content": {"application/json": {"schema": obj({
        "volume": {"type": "object"}, "time_to_close": {"type": "object"}, "backlog": {"type": "object"}, "sla": {"type": "object"}})}}},
        **aerr(400, 401, 403)}}}
paths["/api/v1/staff/metrics/requests"] = {"get": {"tags": ["Staff API"], "operationId": "staff_metrics_requests", "security": [{"staffKey": []}],
    "summary": "The requests behind one number of the metrics: the cohort's requests a facet counts (docs/METRICS.md), a page at a time",
    "parameters": paths["/api/v1/staff/metrics"]["get"]["parameters"] + [
                   {"name": "facet", "in": "query", "schema": S(pattern="^(all|open|closed|closed_without_time|duplicates|sla_breached|(channel|service|department|status|month|area|close|age|sla):.+)?$"),
                    "description": "which number: all, open, closed, closed_without_time, duplicates, sla_breached, channel:C, service:S, department:D, status:S, month:YYYY-MM, area:LAYER:AREA, close:N, age:N, sla:CLASS"},
                   {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                   {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}}],
    "responses": {"200": {"description": "How many requests the number counts, and a page of them", "content": {"application/json": {"schema": obj({
        "facet": S(), "total": {"type": "integer"}, "requests": {"type": "array"}})}}},
        **aerr(400, 401, 403)}}}
paths["/api/v1/staff/reports/monthly"] = {"get": {"tags": ["Staff API"], "operationId": "staff_monthly_report", "security": [{"staffKey": []}],
    "summary": "The council's monthly report (docs/METRICS.md): a month against the month before and a year before, every service, department and area, movers",
    "parameters": [{"name": "month", "in": "query", "schema": S(pattern="^[0-9]{4}-(0[1-9]|1[0-2])$"), "description": "YYYY-MM; default the last complete month"},
                   {"name": "format", "in": "query", "schema": S(enum=["json", "html", "pdf"])},
                   {"name": "now", "in": "query", "schema": DTIN}, {"name": "include_self_generated", "in": "query", "schema": {"type": "boolean"}}],
    "responses": {"200": {"description": "The report", "content": {
        "application/json": {"schema": obj({"month": S(), "this_month": {"type": "object"}, "previous_month": {"type": "object"}, "year_ago": {"type": "object"},
                                            "trend": {"type": "array"}, "services": {"type": "array"}, "departments": {"type": "array"}, "areas": {"type": "object"}, "movers": {"type": "object"}}, extra=True)},
        "text/html": {"schema": S()}, "application/pdf": {"schema": S(format="binary")}}},
        **aerr(400, 401, 403)}}}
paths["/api/v1/staff/reports/process"] = {"get": {"tags": ["Staff API"], "operationId": "staff_process_report", "security": [{"staffKey": []}],
    "summary": "Process diagnostics of the requests created in a period (docs/METRICS.md): top path variants, bottlenecks between steps, requests bounced between departments, intake paths per service",
    "parameters": [p for p in paths["/api/v1/staff/metrics"]["get"]["parameters"] if p["name"] not in ("now", "include_self_generated")]
                  + [{"name": "format", "in": "query", "schema": S(enum=["json", "html", "pdf"])}],
    "responses": {"200": {"description": "The diagnostics", "content": {
        "application/json": {"schema": obj({"requests": {"type": "integer"}, "top_variants": {"type": "array"}, "bottlenecks": {"type": "array"},
                                            "bounced": {"type": "integer"}, "services_with_several_intake_paths": {"type": "integer"}, "services": {"type": "array"}}, extra=True)},
        "text/html": {"schema": S()}, "application/pdf": {"schema": S(format="binary")}}},
        **aerr(400, 401, 403)}}}
paths["/api/v1/staff/follow-ups/{task}/done"] = {"post": {**staff_plain("staff_finish_follow_up", "Close a follow-up with what was done", obj({"outcome": S()})),
    "parameters": [{"name": "task", "in": "path", "required": True, "schema": S(pattern="^[0-9]+$"), "description": "Follow-up number"}]}}
paths["/api/v1/staff/requests/{id}/attachments"] = {"post": {**staff_op("staff_attach", "Attach a photo (JPEG, PNG, GIF, WebP) or PDF, at most 5 MiB, internal unless public=true"),
    "parameters": [path_p("id", "Request id", "2019193337"), {"name": "name", "in": "query", "required": True, "schema": S()}, {"name": "public", "in": "query", "schema": {"type": "boolean"}}],
    "requestBody": {"required": True, "content": {"application/octet-stream": {"schema": S(format="binary")}}}}}
paths["/api/v1/staff/attachments/{media_id}"] = {"get": {"tags": ["Staff API"], "operationId": "staff_attachment", "summary": "An attachment, internal ones too", "security": [{"staffKey": []}],
    "parameters": [path_p("media_id", "Attachment id")],
    "responses": {"200": {"description": "The file", "content": {"image/*": {"schema": S(format="binary")}, "application/pdf": {"schema": S(format="binary")}}}, **aerr(401, 403, 404)}}}
paths["/api/v1/staff/catalog"] = {
    "get": staff_plain("staff_catalog", "Departments and services with their SLA targets, and the newest version number"),
    "put": staff_plain("staff_save_catalog", "Save departments and services (all or some) as the next catalog version; answers what changed", catalog_doc)}
paths["/api/v1/staff/catalog/versions"] = {"get": staff_plain("staff_catalog_versions", "Every saved catalog version, newest first")}
paths["/api/v1/appointments/slots"] = {"get": {"tags": ["API"], "operationId": "api_appointment_slots", "summary": "Days open to booking for a bookable service in the resident's zone, with places left",
    "parameters": [{"name": "service_code", "in": "query", "required": True, "schema": S()},
                   {"name": "lat", "in": "query", "schema": {"type": "number"}}, {"name": "long", "in": "query", "schema": {"type": "number"}},
                   {"name": "zone", "in": "query", "schema": S()}],
    "responses": {"200": {"description": "Open days", "content": {"application/json": {"schema": obj({"service_code": S(), "zone": S(),
        "slots": {"type": "array", "items": obj({"day": S(format="date"), "capacity": {"type": "integer"}, "booked": {"type": "integer"}, "free": {"type": "integer"}})}})}}}, **aerr(400, 404)}}}
paths["/api/v1/field/{system}/updates"] = {"post": {
    "tags": ["Field systems"], "operationId": "field_update", "summary": "A field system reports progress on a work order; HMAC-signed (docs/WORK_ORDERS.md), once per delivery_id",
    "parameters": [path_p("system", "The field system's configured name", "streets"),
                   {"name": "X-Civic311-Timestamp", "in": "header", "required": True, "schema": S(), "description": "Unix seconds, within 5 minutes of ours"},
                   {"name": "X-Civic311-Signature", "in": "header", "required": True, "schema": S(), "description": "sha256=HEX: HMAC-SHA256 of TIMESTAMP.BODY with the shared secret"}],
    "requestBody": {"required": True, "content": {"application/json": {"schema": obj({"delivery_id": S(), "work_order": S(), "state": S(enum=["sent", "in_progress", "completed", "cancelled"]), "note": NS()}, ["delivery_id", "work_order", "state"], extra=True)}}},
    "responses": {**anyobj("Applied, or already received"), **aerr(400, 401, 404, 422)}}}
paths["/api/v1/services"] = {"get": {"tags": ["API"], "operationId": "api_services", "summary": "The catalog", "responses": anyobj("Services")}}
paths["/api/v1/stats"] = {"get": {"tags": ["API"], "operationId": "api_stats", "summary": "Counts", "responses": anyobj("Counts")}}

doc = {"openapi": "3.1.0",
       "info": {"title": "civic311", "version": "0.1.0",
                "description": "civic311's HTTP API: Open311 GeoReport v2 (JSON and XML) with Chicago-style extensions and mySociety-style updates, and the JSON API of the web UI. POSTs need an api_key unless the city turned that off."},
       "servers": [{"url": "/"}],
       "paths": paths, "components": {"schemas": schemas, "securitySchemes": {"staffKey": {"type": "http", "scheme": "bearer", "description": "a staff API key: civic311 apikey create NAME --staff"}}}}
print(json.dumps(doc, indent=2))
