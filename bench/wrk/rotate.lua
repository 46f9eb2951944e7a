-- wrk script for scripts/bench's many-sessions rows: each request presents a different one of
-- the sessions in a file (one `Cookie` header value per line).
--
--   wrk -s bench/wrk/rotate.lua URL -- COOKIE_FILE uniform|zipf
--
-- uniform: every session equally likely. zipf: the session of rank k is chosen with
-- probability proportional to 1/k (s = 1), so a few sessions are hot and most are cold.
local cookies = {}
local cdf = nil
local n = 0

function init(args)
    for line in io.lines(args[1]) do
        n = n + 1
        cookies[n] = line
    end
    if n == 0 then
        error("no sessions in " .. args[1])
    end
    -- Each wrk thread has its own Lua state: seed differently.
    math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
    if args[2] == "zipf" then
        cdf = {}
        local sum = 0
        for k = 1, n do
            sum = sum + 1 / k
            cdf[k] = sum
        end
        for k = 1, n do
            cdf[k] = cdf[k] / sum
        end
    elseif args[2] ~= "uniform" then
        error("distribution must be uniform or zipf, not " .. tostring(args[2]))
    end
end

local function pick()
    if not cdf then
        return math.random(n)
    end
    local u, lo, hi = math.random(), 1, n
    while lo < hi do
        local mid = math.floor((lo + hi) / 2)
        if cdf[mid] < u then lo = mid + 1 else hi = mid end
    end
    return lo
end

function request()
    return wrk.format(nil, nil, { Cookie = cookies[pick()] })
end
