-- wrk script: one plain-mode ID card check of a built-in identity, POSTed as a form.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded; charset=UTF-8"
wrk.body = "key=sandbox-key-0123456789abcdef0123&realname=%E8%82%96%E4%BF%8A%E5%B8%86&idcard=500101197907020002&orderid=1"

local errors = 0
response = function(status, headers, body)
  if status ~= 200 or not string.find(body, '"error_code":0', 1, true) then
    errors = errors + 1
  end
end

done = function(summary, latency, requests)
  io.write(string.format("non-billed or failed answers: %d\n", errors))
end
