"""Two real Open311 clients from PyPI (georeport, civicbot) against a live civic311.

Run by crates/civic311-web/tests/api/clients.rs with: BASE_URL API_KEY CLOSED_ID OPEN_ID.
Every check is an assert; the last line printed is "ALL OK" when all passed.
"""
import sys

from civicbot.http import HttpError, HttpTransport, RateLimiter
from civicbot.open311 import Open311Client
from civicbot.registry import Endpoint
from georeport import GeoReport
import requests

base, key, closed_id, open_id = sys.argv[1:5]
JUR = "kcmo.gov"


def check(name, cond, detail=""):
    assert cond, f"{name}: {detail}"
    print(f"ok: {name}")


# --- georeport (read-only, JSON and XML) ---------------------------------------------------
gr = GeoReport(base, jurisdiction=JUR)
services = gr.get_service_list()
codes = [s["service_code"] for s in services]
check("georeport services", "POTHOLE" in codes and len(codes) > 100, len(codes))
check("georeport codes are strings", all(isinstance(c, str) for c in codes))
definition = gr.get_service_definition("POTHOLE")
check("georeport definition",
      [a["code"] for a in definition["attributes"]] == ["INFO", "SIZE", "LANES", "DEPTH"],
      definition)
window = dict(start_date="2019-11-01T00:00:00-06:00", end_date="2019-11-30T23:59:59-06:00")
listed = gr.get_service_requests(**window)
check("georeport list in a window", 0 < len(listed) <= 50, len(listed))
closed_only = gr.get_service_requests(status="closed", **window)
check("georeport status filter", closed_only and all(r["status"] == "closed" for r in closed_only))
one_code = listed[0]["service_code"]
by_code = gr.get_service_requests(service_code=one_code, **window)
check("georeport service_code filter", by_code and all(r["service_code"] == one_code for r in by_code))
both = gr.get_service_requests(service_request_id=f"{closed_id},{open_id}")
check("georeport id list", sorted(r["service_request_id"] for r in both) == sorted([closed_id, open_id]))
single = gr.get_service_request(closed_id)
check("georeport single", single["service_request_id"] == closed_id and single["status"] == "closed")
try:
    gr.get_service_request("999999999")
    check("georeport unknown id raises", False)
except requests.HTTPError as e:
    check("georeport unknown id is 404", e.response.status_code == 404)
    body = e.response.json()
    check("georeport error array", body[0]["code"] == 404 and body[0]["description"])

grx = GeoReport(base, jurisdiction=JUR, output_format="xml")
xml_services = grx.get_service_list()
xml_codes = [s["service_code"] for s in xml_services]
check("georeport XML services = JSON services", xml_codes == codes)
xml_def = grx.get_service_definition("POTHOLE")
attrs = xml_def["attributes"]["attribute"]
check("georeport XML definition", [a["code"] for a in attrs] == ["INFO", "SIZE", "LANES", "DEPTH"])
xml_single = grx.get_service_request(closed_id)
xml_single = xml_single[0] if isinstance(xml_single, list) else xml_single
check("georeport XML single", xml_single["service_request_id"] == closed_id)

# --- civicbot (reads and writes) -------------------------------------------------------------
ep = Endpoint(id="civic311", name="civic311 under test", base_url=base, write=True)
c = Open311Client(ep, transport=HttpTransport(rate_limiter=RateLimiter(min_interval=0)),
                  jurisdiction_id=JUR)
check("civicbot services", {s["service_code"] for s in c.list_services()} == set(codes))
check("civicbot definition", c.get_service_definition("POTHOLE")["service_code"] == "POTHOLE")
p = c.create_request("POTHOLE", lat=39.102738, lng=-94.600134, description="civicbot test",
                     attributes={"SIZE": "L", "LANES": ["left", "bike"], "DEPTH": "7"},
                     email="civicbot@example.org", validate_remote=True,
                     dry_run=False, api_key=key, confirm="SEND")
new_id = p.response[0]["service_request_id"]
token = p.response[0]["token"]
check("civicbot POST with attributes", isinstance(new_id, str) and new_id.isdigit(), p.response)
got = c.get_request(new_id)
check("civicbot fetch by id", got["status"] == "open" and got["service_code"] == "POTHOLE"
      and got["description"] == "civicbot test", got)
check("civicbot no personal data", "civicbot@example.org" not in str(got))
check("civicbot list by ids", [r["service_request_id"] for r in c.list_requests(service_request_ids=[new_id])] == [new_id])
check("civicbot token", c.get_token(token) == [{"service_request_id": new_id, "token": token}])
p2 = c.create_request("POTHOLE", address_string="938 Mulberry St", attributes={"SIZE": "S"},
                      dry_run=False, api_key=key, confirm="SEND")
check("civicbot POST by address", p2.response[0]["service_request_id"] != new_id)

def expect_http_error(name, status, call):
    try:
        call()
        check(name, False, "no error")
    except HttpError as e:
        check(name, e.status == status and f'"code":{status}' in e.body.replace(" ", ""), (e.status, e.body))

expect_http_error("civicbot wrong key is 403", 403, lambda: c.create_request(
    "POTHOLE", lat=39.1, lng=-94.5, attributes={"SIZE": "S"}, dry_run=False, api_key="wrong", confirm="SEND"))
expect_http_error("civicbot unknown service is 400", 400, lambda: c.create_request(
    "NOPE", lat=39.1, lng=-94.5, dry_run=False, api_key=key, confirm="SEND"))
expect_http_error("civicbot missing attribute is 400", 400, lambda: c.create_request(
    "POTHOLE", lat=39.1, lng=-94.5, dry_run=False, api_key=key, confirm="SEND"))
# civicbot refuses a too-long description itself, so send that form with its transport.
expect_http_error("civicbot too-long description is 400", 400, lambda: c.http.post_form(
    c._url("requests"), {"service_code": "POTHOLE", "lat": 39.1, "long": -94.5, "api_key": key,
                         "attribute[SIZE]": "S", "description": "x" * 4001}))
expect_http_error("civicbot unknown id is 404", 404, lambda: c.get_request("999999999"))
expect_http_error("civicbot unknown token is 404", 404, lambda: c.get_token("nope"))
other = Open311Client(ep, transport=HttpTransport(rate_limiter=RateLimiter(min_interval=0)),
                      jurisdiction_id="chicago.gov")
expect_http_error("civicbot unknown jurisdiction is 404", 404, lambda: other.list_services())
cx = Open311Client(ep, transport=HttpTransport(rate_limiter=RateLimiter(min_interval=0)),
                   jurisdiction_id=JUR, fmt="xml")
raw = cx.http.get_bytes(cx._url(f"requests/{new_id}"), cx._params())
check("civicbot XML fetch", f"<service_request_id>{new_id}</service_request_id>".encode() in raw)
print("ALL OK")
