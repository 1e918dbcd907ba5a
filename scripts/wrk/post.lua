-- POST requests.json: a real service code and a Kansas City point, with the bench API key.
local key = os.getenv("CIVIC311_BENCH_KEY")
local codes = {}
for line in io.lines("bench-out/codes.txt") do codes[#codes + 1] = line end
math.randomseed(311)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
request = function()
  local body = "api_key=" .. key .. "&service_code=" .. codes[math.random(#codes)] ..
    "&lat=39.0" .. math.random(10000, 99999) .. "&long=-94.5" .. math.random(10000, 99999) ..
    "&description=wrk+benchmark"
  return wrk.format(nil, "/open311/v2/requests.json", nil, body)
end
