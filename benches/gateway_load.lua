-- wrk script: each request POSTs the next of the bodies in BODIES (one per line), so every
-- check asks about a new person; counts answers that are not billed.
local bodies, next_body, errors = {}, 1, 0

init = function(args)
  for line in io.lines(os.getenv("BODIES")) do
    bodies[#bodies + 1] = line
  end
  -- Each thread starts at its own place in the list.
  next_body = (tonumber(args[1] or "0") or 0) + 1
end

request = function()
  local body = bodies[next_body]
  next_body = next_body % #bodies + 1
  return wrk.format("POST", os.getenv("API_PATH"), { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
end

response = function(status, headers, body)
  if status ~= 200 or not string.find(body, '"error_code":0', 1, true) then
    errors = errors + 1
  end
end

done = function(summary, latency, requests)
  io.write(string.format("non-billed or failed answers: %d\n", errors))
end
