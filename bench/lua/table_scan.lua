-- table_scan: a full scan of an sbtest table that reads every row's c column.
-- Not in sysbench 1.0.20; issue 10 asks for it, after Dolt's benchmark of that
-- name. Prepared and loaded like the oltp_* workloads (it shares oltp_common.lua).
require("oltp_common")

function prepare_statements()
   stmt_scan = {}
   for t = 1, sysbench.opt.tables do
      stmt_scan[t] = con:prepare(string.format(
         "SELECT SUM(LENGTH(c)) FROM sbtest%d", t))
   end
end

function event()
   stmt_scan[sysbench.rand.uniform(1, sysbench.opt.tables)]:execute()
end
