-- wrk script: every request carries a different forged Lake JWT (random subject, key name and
-- signature), well-formed enough to reach the key lookup, so nothing can be cached or short-cut.
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

local function base64url(data)
  local out, bits, value = {}, 0, 0
  for i = 1, #data do
    value = value * 256 + data:byte(i)
    bits = bits + 8
    while bits >= 6 do
      bits = bits - 6
      local index = math.floor(value / 2 ^ bits) % 64
      out[#out + 1] = alphabet:sub(index + 1, index + 1)
    end
    value = value % (2 ^ bits)
  end
  if bits > 0 then
    local index = math.floor(value * 2 ^ (6 - bits)) % 64
    out[#out + 1] = alphabet:sub(index + 1, index + 1)
  end
  return table.concat(out)
end

local function random_text(length)
  local out = {}
  for i = 1, length do
    local index = math.random(1, 62)
    out[i] = alphabet:sub(index, index)
  end
  return table.concat(out)
end

local counter = 0
request = function()
  counter = counter + 1
  local now = os.time()
  local header = base64url('{"alg":"ES256","kid":"k' .. random_text(10) .. '","typ":"JWT"}')
  local payload = base64url('{"aud":["td:service:authentication"],"exp":' .. (now + 600) .. ',"iat":' .. now ..
    ',"org_id":"flood","pat":"' .. random_text(28) .. '","sub":"u' .. counter .. random_text(8) .. '"}')
  local signature = base64url(random_text(64))
  return wrk.format("GET", "/api/me", { ["Authorization"] = "Bearer " .. header .. "." .. payload .. "." .. signature })
end
