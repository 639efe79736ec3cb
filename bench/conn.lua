-- POST with an Authorization header on the first request of each
-- connection only (wrk writes the first request of every connection
-- before any other): the connection is identified by it, and every later
-- request comes without a header.
--
-- usage: wrk -c N -s conn.lua URL -- "NTLM <token>" N

wrk.method = "POST"
wrk.body = ""

local auth, first, n

function init(args)
    auth = args[1]
    first = tonumber(args[2]) or 1
    n = 0
end

function request()
    n = n + 1

    if n <= first then
        return wrk.format(nil, nil, { ["Authorization"] = auth })
    end

    return wrk.format()
end
