-- wrk script for bench/ingest: POSTs private "/help" messages as Telegram
-- sends them, each with a fresh update_id, from many users in turn.
-- Arguments (after --): users, threads.
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local users, nthreads, counter = 10000, 2, 0

function init(args)
  users = tonumber(args[1]) or users
  nthreads = tonumber(args[2]) or nthreads
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Telegram-Bot-Api-Secret-Token"] = "bench"

local body = '{"update_id":%d,"message":{"message_id":%d,"from":{"id":%d,"is_bot":false,"first_name":"bench"},' ..
  '"date":%d,"chat":{"id":%d,"type":"private","first_name":"bench"},"text":"/help",' ..
  '"entities":[{"type":"bot_command","offset":0,"length":5}]}}'

function request()
  counter = counter + 1
  local id = counter * nthreads + tid -- unique across threads
  local from = 7000 + id % users
  return wrk.format(nil, nil, nil, string.format(body, id, id % 1000000 + 1, from, os.time(), from))
end
