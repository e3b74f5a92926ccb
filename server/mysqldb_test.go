package server

import "testing"

func TestMySQLDBShim(t *testing.T) {
	for q, answered := range map[string]bool{
		"show create table `general_log`": true,
		"SHOW CREATE TABLE slow_log;":     true,
		"show create table `user`":        false, // the engine answers
		"SELECT engine, table_type FROM INFORMATION_SCHEMA.TABLES WHERE table_schema = DATABASE() AND table_name = 'db'":    true,
		"SELECT engine, table_type FROM INFORMATION_SCHEMA.TABLES WHERE table_schema = DATABASE() AND table_name = 'other'": false,
		"DROP TABLE IF EXISTS `user`":                              true,
		"DROP TABLE IF EXISTS `mine`":                              false,
		"DROP TABLE `user`":                                        false,
		"CREATE TABLE IF NOT EXISTS `general_log` (\n  `a` int\n)": true,
		"CREATE TABLE `tables_priv` (\n  `Host` char(255)\n)":      true,
		"CREATE TABLE `mine` (a int)":                              false,
		"/*!40000 ALTER TABLE `db` DISABLE KEYS */":                true,
		"/*!40000 ALTER TABLE `mine` DISABLE KEYS */":              false,
		"INSERT INTO `user` VALUES ('%','bob')":                    true,
		"INSERT INTO user (Host, User) VALUES ('%','bob')":         false, // a column list: run it
		"INSERT INTO `mine` VALUES (1)":                            false,
		"SELECT 1":                                                 false,
	} {
		if got := mysqlDBShim(q) != nil; got != answered {
			t.Errorf("mysqlDBShim(%q) answered: %v, want %v", q, got, answered)
		}
	}
	r := mysqlDBShim("show create table `slow_log`")
	if len(r.Rows) != 1 || r.Rows[0][0].ToString() != "slow_log" || r.Rows[0][1].ToString() != logTables["slow_log"] {
		t.Errorf("SHOW CREATE TABLE slow_log: %v", r.Rows)
	}
}
