-- POST with two Authorization headers taking turns on every connection:
-- no request repeats the header of the one before it on its connection.
--
-- usage: wrk -s alt.lua URL -- "Basic <a>" "Basic <b>"

wrk.method = "POST"
wrk.body = ""

local auth, n

function init(args)
    auth = { args[1], args[2] }
    n = 0
end

function request()
    n = n + 1
    return wrk.format(nil, nil, { ["Authorization"] = auth[n % 2 + 1] })
end
