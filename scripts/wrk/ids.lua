-- GET requests/{id}.json for ids drawn at random from bench-out/ids.txt (real-derived ids).
local ids = {}
for line in io.lines("bench-out/ids.txt") do ids[#ids + 1] = line end
math.randomseed(311)
request = function()
  return wrk.format("GET", "/open311/v2/requests/" .. ids[math.random(#ids)] .. ".json")
end
