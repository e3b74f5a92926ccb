-- covering_index_scan: a scan of the secondary index k_1 that needs nothing but
-- the index (k and the primary key it holds), on sysbench's sbtest tables. Not
-- in sysbench 1.0.20; issue 10 asks for it, after Dolt's benchmark of that name.
-- Prepared and loaded like the oltp_* workloads (it shares oltp_common.lua).
require("oltp_common")

function prepare_statements()
   -- one statement per table, each a server-side prepared statement in
   -- --db-ps-mode=auto
   stmt_scan = {}
   for t = 1, sysbench.opt.tables do
      stmt_scan[t] = con:prepare(string.format(
         "SELECT COUNT(id) FROM sbtest%d WHERE k > ?", t))
      param_scan = stmt_scan[t]:bind_create(sysbench.sql.type.INT)
      stmt_scan[t]:bind_param(param_scan)
   end
end

function event()
   local t = sysbench.rand.uniform(1, sysbench.opt.tables)
   param_scan:set(0)
   stmt_scan[t]:execute()
end
